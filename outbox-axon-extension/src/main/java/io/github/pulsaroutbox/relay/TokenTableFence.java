package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.store.OutboxNodes;
import io.github.pulsaroutbox.store.OutboxNodes.Claim;
import io.github.pulsaroutbox.store.TokenTable;
import org.axonframework.common.DateTimeUtils;
import org.axonframework.eventhandling.tokenstore.AbstractTokenEntry;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The fast path of the relay's claim fence: one round trip that confirms all of a write's claims in the token store's
 * own table, instead of one {@code extendClaim} per segment (which a {@code JdbcTokenStore} runs as a locking select, a
 * token deserialization and an update): a select locking the claims' rows shared ({@link OutboxNodes#holdClaims}) where
 * the database has shared row locks, else single-row updates extending them ({@link OutboxNodes#extendClaims}), in
 * ascending segment order, each required to match this node's claim.
 * <p>
 * Guarantees: the fast path is used only for a table proven to be the one the token store writes, in the same
 * transaction ({@link #verify}): the candidate's row of a claimed segment is marked (a timestamp ahead of now, so the
 * claim never looks expired meanwhile), the token store extends the claim, and the row must then hold the token
 * store's write (not the mark) with an owner and a timestamp within the claim timeout; otherwise the transaction is
 * rolled back, the mark with it. The owner read there is this node's.
 * {@link #confirm} reports success only when every claim is this node's; a shared-lock read that finds one that is not
 * is final, otherwise the caller fences through the token store, whose answer is final. Without a node table, or when
 * no candidate passes in {@value #ATTEMPTS} claims (another token store: Mongo, Axon Server, a custom one), the fast
 * path stays off.
 */
final class TokenTableFence {

    /** Logs as part of {@link SegmentClaims}. */
    private static final Logger logger = LoggerFactory.getLogger(SegmentClaims.class);
    /** Claims at which the candidates are tried, at most. */
    static final int ATTEMPTS = 3;
    /**
     * How far ahead of now the mark's timestamp is: a token store writes now, not this, and a claim marked so never
     * looks expired to the token store (which would let it take a claim another node holds).
     */
    private static final Duration MARK_AHEAD = Duration.ofHours(1);

    private final OutboxNodes nodes;
    private final List<TokenTable> candidates;
    private final String processorName;
    private final Duration claimTimeout;
    /** The token store's table and this node's owner name in it; null until found (or never). */
    private volatile Found found;
    private int attempts;

    TokenTableFence(OutboxNodes nodes, List<TokenTable> candidates, String processorName, Duration claimTimeout) {
        this.nodes = nodes;
        this.candidates = List.copyOf(candidates);
        this.processorName = processorName;
        this.claimTimeout = claimTimeout;
        this.attempts = nodes == null || candidates.isEmpty() ? ATTEMPTS : 0;
    }

    /** Whether there is nothing more to try: a table was found, or every attempt failed (or nothing to try). */
    boolean probed() {
        return found != null || attempts >= ATTEMPTS;
    }

    /**
     * Tries the candidate tables (a configured one first, then Axon's default for {@code store}'s kind, then the other
     * default) with {@code verifyInTransaction}, which must run {@link #verify} for the table in a transaction of its
     * own; the first table it returns a claim for is used from now on.
     */
    void probe(TokenStore store, Function<TokenTable, Claim> verifyInTransaction) {
        attempts++;
        for (TokenTable candidate : likelyFirst(store)) {
            try {
                Claim claim = verifyInTransaction.apply(candidate);
                found = new Found(candidate, claim.owner());
                logger.info("Outbox segment claims are fenced in one round trip on token table {}", candidate.table());
                return;
            } catch (RuntimeException e) {
                logger.debug("Token table {} is not where the token store keeps the outbox claims: {}",
                             candidate.table(), e.toString());
            }
        }
        if (attempts >= ATTEMPTS) {
            logger.info("No token table holding the outbox claims was found on the outbox's database ({}): each "
                                + "write's claims are extended through the token store, one per segment",
                        candidates.stream().map(TokenTable::table).toList());
        }
    }

    /**
     * In the caller's transaction: marks {@code table}'s row of {@code segment}, runs {@code extendThroughStore}
     * (the token store extending this node's claim of the segment), and reads the row back.
     *
     * @return the claim the token store wrote to that row
     * @throws IllegalStateException when the row is missing or the token store did not write it (the caller's
     *                               transaction must then roll back: the mark is undone)
     */
    Claim verify(TokenTable table, int segment, Runnable extendThroughStore) {
        String mark = DateTimeUtils.formatInstant(AbstractTokenEntry.clock.instant().plus(MARK_AHEAD));
        if (nodes.markClaim(table, processorName, segment, mark) != 1) {
            throw new IllegalStateException("no single token of segment " + segment + " in " + table.table());
        }
        extendThroughStore.run();
        Claim claim = nodes.claimOf(table, processorName, segment).orElseThrow(
                () -> new IllegalStateException("the token of segment " + segment + " left " + table.table()));
        if (mark.equals(claim.timestamp()) || claim.owner() == null || !fresh(claim.timestamp())) {
            throw new IllegalStateException("the token store did not write " + table.table());
        }
        return claim;
    }

    /** The candidates, Axon's default table of {@code store}'s kind before the other default (fewer failed reads). */
    private List<TokenTable> likelyFirst(TokenStore store) {
        TokenTable likely = store instanceof JdbcTokenStore ? TokenTable.JDBC : TokenTable.JPA;
        List<TokenTable> ordered = new ArrayList<>(candidates);
        if (ordered.remove(likely)) {
            int firstDefault = 0;
            while (firstDefault < ordered.size() && !isDefault(ordered.get(firstDefault))) {
                firstDefault++;
            }
            ordered.add(firstDefault, likely);
        }
        return ordered;
    }

    private static boolean isDefault(TokenTable table) {
        return table.equals(TokenTable.JPA) || table.equals(TokenTable.JDBC);
    }

    /** The table the fast path writes, if one was found. */
    Optional<TokenTable> table() {
        Found current = found;
        return current == null ? Optional.empty() : Optional.of(current.table());
    }

    /** What {@link #confirm} found out about a write's claims. */
    enum Confirmation {
        /** Every claim is this node's: the write may commit. */
        CONFIRMED,
        /**
         * A claim is not this node's, read under a lock from the token store's own table: final (the write must roll
         * back; asking the token store again would upgrade the shared lock just taken, which can deadlock).
         */
        REFUSED,
        /** The fast path is off, or an extension did not match every claim: the token store must answer. */
        UNKNOWN
    }

    /**
     * Confirms this node's claims of {@code segments} in one round trip of the caller's transaction. Where the
     * database locks rows shared ({@link OutboxNodes#holdClaims}) the claims' rows are locked so until the transaction
     * ends, which a takeover waits for, while concurrent writes of this node confirming the same claims do not wait for
     * each other's commits; the answer is {@link Confirmation#CONFIRMED} or {@link Confirmation#REFUSED}. Elsewhere
     * (H2) the claims are extended, which locks the rows exclusively; an extension that does not match every claim
     * answers {@link Confirmation#UNKNOWN}, as does a fence whose fast path is off.
     */
    Confirmation confirm(Collection<Integer> segments) {
        Found current = found;
        if (current == null) {
            return Confirmation.UNKNOWN;
        }
        int distinct = new TreeSet<>(segments).size();
        int held = nodes.holdClaims(current.table(), processorName, current.owner(), segments);
        if (held >= 0) {
            return held == distinct ? Confirmation.CONFIRMED : Confirmation.REFUSED;
        }
        String now = DateTimeUtils.formatInstant(AbstractTokenEntry.clock.instant());
        return nodes.extendClaims(current.table(), processorName, current.owner(), segments, now) == distinct
                ? Confirmation.CONFIRMED : Confirmation.UNKNOWN;
    }

    private boolean fresh(String timestamp) {
        try {
            Instant at = DateTimeUtils.parseInstant(timestamp);
            return Duration.between(at, AbstractTokenEntry.clock.instant()).abs().compareTo(claimTimeout) <= 0;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private record Found(TokenTable table, String owner) {
    }
}
