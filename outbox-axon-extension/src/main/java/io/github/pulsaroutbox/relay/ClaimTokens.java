package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.store.TokenTable;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.GlobalSequenceTrackingToken;
import org.axonframework.eventhandling.Segment;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The outbox relay's tokens in Axon's {@link TokenStore}, one per segment under one processor name: creates and checks
 * them, claims, extends and releases them, fences writes with them and stores in them the highest sequence id reserved
 * per segment (as a {@link GlobalSequenceTrackingToken}).
 * <p>
 * Guarantees: claiming, extending, releasing and storing the reserved ids each run in a transaction of their own whose
 * waits are bounded first and restored last ({@link WaitLimits}); {@link #fence} joins the caller's transaction and confirms the claims, locking
 * their rows in ascending segment order. The token store is looked up once per {@link #initialize}; before that only
 * {@link #initialized()} and {@link #fence} (which refuses) may be called. A token of another kind than the relay's
 * (the name belongs to an event processor) fails the claim with an {@link AxonConfigurationException}.
 */
final class ClaimTokens {

    /** Logs as part of {@link SegmentClaims}. */
    private static final Logger logger = LoggerFactory.getLogger(SegmentClaims.class);

    private final Supplier<TokenStore> tokenStores;
    private final TransactionManager transactionManager;
    private final String processorName;
    /** Bounds the waits of this class's transactions. */
    private final WaitLimits limits;
    /** How often a node tries to create the segments' tokens while none are visible (nodes starting together). */
    static final int INITIALIZE_ATTEMPTS = 10;

    /** The one-round-trip fence on the token store's table, when it has one this node can write. */
    private final TokenTableFence tableFence;
    /** Set by {@link #initialize}; read by several threads ({@link #fence}, {@link #extend}). */
    private volatile TokenStore tokenStore;

    /** Tokens fenced through the token store only (no one-round-trip fence). */
    ClaimTokens(Supplier<TokenStore> tokenStores, TransactionManager transactionManager, String processorName,
                WaitLimits limits) {
        this(tokenStores, transactionManager, processorName, limits,
             new TokenTableFence(null, List.of(), processorName, Duration.ZERO));
    }

    ClaimTokens(Supplier<TokenStore> tokenStores, TransactionManager transactionManager, String processorName,
                WaitLimits limits, TokenTableFence tableFence) {
        this.tokenStores = tokenStores;
        this.transactionManager = transactionManager;
        this.processorName = processorName;
        this.limits = limits;
        this.tableFence = tableFence;
    }

    /**
     * Looks the token store up, creates the segments' tokens if none exist, and checks that it holds
     * {@code segmentCount} segments.
     *
     * @throws AxonConfigurationException when the token store has another number of segments for the processor
     */
    void initialize(int segmentCount) {
        tokenStore = tokenStores.get();
        int[] existing = transactionManager.fetchInTransaction(() -> tokenStore.fetchSegments(processorName));
        // nodes starting together race to create the tokens: the loser's insert fails (a duplicate key, or on MariaDB
        // a deadlock whose winner has not committed yet when the loser reads), so it tries again, a bounded number of
        // times, until it creates them or sees the winner's
        for (int attempt = 1; existing.length == 0 && attempt <= INITIALIZE_ATTEMPTS; attempt++) {
            try {
                transactionManager.executeInTransaction(() -> tokenStore.initializeTokenSegments(
                        processorName, segmentCount, new GlobalSequenceTrackingToken(0)));
            } catch (RuntimeException e) {
                logger.debug("Initializing the outbox segments failed (attempt {}); another node may be doing it",
                             attempt, e);
                pause(attempt);
            }
            existing = transactionManager.fetchInTransaction(() -> tokenStore.fetchSegments(processorName));
        }
        requireCount(existing.length, segmentCount);
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep(50L * attempt);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted initializing the outbox segments", e);
        }
    }

    /**
     * Checks, without creating tokens, that the token store holds no segments for the processor or as many as
     * {@code segmentCount}: for nodes that write rows but do not relay them (a row's segment is fixed when it is
     * written, so every node must split the outbox alike).
     *
     * @throws AxonConfigurationException when the token store has another number of segments for the processor
     */
    void check(int segmentCount) {
        TokenStore store = tokenStores.get();
        int[] existing = transactionManager.fetchInTransaction(() -> store.fetchSegments(processorName));
        if (existing.length > 0) {
            requireCount(existing.length, segmentCount);
        }
    }

    private void requireCount(int existing, int segmentCount) {
        if (existing != segmentCount) {
            throw new AxonConfigurationException(
                    "The token store holds " + existing + " segment(s) for outbox processor '" + processorName
                            + "' but the outbox is configured with " + segmentCount + " (pulsar-outbox.segments). "
                            + "Rows keep the segment they were written with: configure " + existing
                            + " segments, or change the count only as described in docs/guarantees.md");
        }
    }

    /** The token table a write's claims are fenced in with one round trip, once found at the first claims. */
    Optional<TokenTable> fenceTable() {
        return tableFence.table();
    }

    /** Whether {@link #initialize} looked the token store up. */
    boolean initialized() {
        return tokenStore != null;
    }

    /**
     * Extends the claims of {@code segments} (in their iteration order) in one transaction; returns, per segment, why
     * its claim could not be extended (another node holds it, or nobody does). Empty: all extended.
     */
    Map<Integer, UnableToClaimTokenException> extend(Collection<Integer> segments) {
        TokenStore store = tokenStore;
        Map<Integer, UnableToClaimTokenException> notExtended = new TreeMap<>();
        limits.executeInTransaction(transactionManager, () -> {
            for (Integer segment : segments) {
                try {
                    store.extendClaim(processorName, segment);
                } catch (UnableToClaimTokenException e) {
                    notExtended.put(segment, e);
                }
            }
        });
        return notExtended;
    }

    /** The segments nobody holds a valid claim of (this node's own included), in the token store's order. */
    List<Integer> available() {
        List<Integer> available = new ArrayList<>();
        for (Segment segment : transactionManager.fetchInTransaction(
                () -> tokenStore.fetchAvailableSegments(processorName))) {
            available.add(segment.getSegmentId());
        }
        return available;
    }

    /**
     * Claims {@code segment}; returns the highest sequence id reserved in its token (0 for none).
     *
     * @throws UnableToClaimTokenException when another node holds the claim
     * @throws AxonConfigurationException  when the token is not the relay's (the name belongs to an event processor)
     */
    long claim(int segment) {
        TrackingToken token = limits.fetchInTransaction(transactionManager,
                                                        () -> tokenStore.fetchToken(processorName, segment));
        long reserved = reservedIn(token);
        if (!tableFence.probed() && !(transactionManager instanceof NoTransactionManager)) {
            // each candidate in a transaction of its own, rolled back (its mark with it) unless the store wrote it
            tableFence.probe(tokenStore, table -> limits.fetchInTransaction(transactionManager, () -> tableFence.verify(
                    table, segment, () -> tokenStore.extendClaim(processorName, segment))));
        }
        return reserved;
    }

    /** Releases this node's claim of {@code segment}. */
    void release(int segment) {
        limits.executeInTransaction(transactionManager, () -> {
            tokenStore.releaseClaim(processorName, segment);
        });
    }

    /**
     * Confirms this node's claim of each of {@code segments}, in ascending order, in the caller's transaction: in one
     * round trip on the token store's table where {@link TokenTableFence} found it (at the first claims, in real
     * transactions only; a claim found under a shared lock not to be this node's fails the fence), else (or when an
     * extension there does not match every claim) by extending them one by one through the token store.
     *
     * @throws UnableToClaimTokenException when a claim is not this node's, or the token store was not looked up yet
     */
    void fence(Collection<Integer> segments) {
        TokenStore store = tokenStore;
        if (store == null) {
            throw new UnableToClaimTokenException("The outbox segment claims are not initialized");
        }
        switch (tableFence.confirm(segments)) {
            case CONFIRMED -> {
                return;
            }
            case REFUSED -> throw new UnableToClaimTokenException(
                    "A claim of the segments " + new TreeSet<>(segments) + " of '" + processorName
                            + "' is no longer this node's");
            default -> {
                // UNKNOWN: the token store answers, below
            }
        }
        for (Integer segment : new TreeSet<>(segments)) {
            store.extendClaim(processorName, segment);
        }
    }

    /** Stores per segment the highest sequence id reserved, in one transaction (refused where a claim was lost). */
    void storeReserved(Map<Integer, Long> reserved) {
        limits.executeInTransaction(transactionManager, () -> {
            reserved.forEach((segment, id) -> tokenStore.storeToken(new GlobalSequenceTrackingToken(id),
                                                                    processorName, segment));
        });
    }

    private long reservedIn(TrackingToken token) {
        if (token == null) {
            return 0;
        }
        if (token instanceof GlobalSequenceTrackingToken global) {
            return global.getGlobalIndex();
        }
        throw new AxonConfigurationException("The token store holds a " + token.getClass().getSimpleName()
                                                     + " for processor '" + processorName + "': that name belongs to "
                                                     + "an event processor; give the outbox relay another one");
    }
}
