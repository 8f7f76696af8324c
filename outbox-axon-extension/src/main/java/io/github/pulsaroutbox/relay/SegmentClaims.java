package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.store.OutboxNodes;
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

import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.axonframework.common.BuilderUtils.assertNonNull;
import static org.axonframework.common.BuilderUtils.assertThat;

/**
 * Which segments of the outbox this node relays, claimed in Axon's {@link TokenStore} the way Axon's streaming
 * processors claim theirs: the relay shows up there as a processor (by default {@code pulsar-outbox}) with one token
 * per segment.
 * <p>
 * Guarantees, given a token store shared by all nodes (JPA or JDBC on the application's database) and clocks that
 * differ by less than half the claim timeout:
 * <ul>
 *     <li>A segment is claimed by at most one node at a time; claims are extended every fifth of the claim timeout,
 *     and a node sends rows of a segment only while its last successful extension is less than half the claim timeout
 *     old ({@link #isValid(int)}). A paused or partitioned node therefore stops sending before its claim expires and
 *     another node may take the segment over.</li>
 *     <li>Each node claims its fair share ({@code ceil(segments / live nodes)}, live nodes being those with a
 *     heartbeat within the claim timeout) and gives up segments above it, so joining and leaving nodes rebalance the
 *     work within a few rounds; a dead node's segments are taken over once its claims expire.</li>
 *     <li>Each segment's token holds the highest broker sequence id reserved for it, so sequence ids only grow per
 *     segment, across restarts and takeovers. Ids are reserved in blocks: the token is written once per block.</li>
 *     <li>Every write a node makes to the outbox rows of a segment is fenced by its claim ({@link #fence}): the
 *     claim is extended in the same database transaction, so the write commits only while this node holds the claim
 *     (a node that lost it while paused has the write rolled back), and no other node can claim the segment until
 *     that transaction ends.</li>
 * </ul>
 * All methods except {@link #ownedSegments()}, {@link #fence} and {@link #keep} are called from the relay's thread
 * only.
 */
public final class SegmentClaims {

    private static final Logger logger = LoggerFactory.getLogger(SegmentClaims.class);

    private final java.util.function.Supplier<TokenStore> tokenStores;
    /** Set by {@link #initialize()}; read by the relay's sequencer and recorder threads too ({@link #fence}). */
    private volatile TokenStore tokenStore;
    private final TransactionManager transactionManager;
    private final NodeHeartbeats nodes;
    private final String processorName;
    private final int segmentCount;
    private final String nodeId;
    private final Duration claimTimeout;
    private final Clock clock;
    /** The monotonic clock of claim validity ({@code System::nanoTime}; a simulated one in simulations). */
    private final java.util.function.LongSupplier nanoTime;

    /** Ascending by segment; read by the claim-keeping thread too ({@link #keep}). */
    private final Map<Integer, Claim> owned = new java.util.concurrent.ConcurrentSkipListMap<>();
    private final Set<Integer> releasing = new TreeSet<>();
    private volatile Set<Integer> ownedView = Set.of();
    /** The broker sequence ids of the owned segments. */
    private final SequenceReservations sequences = new SequenceReservations();
    private long nextRoundNanos;

    private SegmentClaims(Builder builder) {
        builder.validate();
        this.tokenStores = builder.tokenStore;
        this.transactionManager = builder.transactionManager;
        this.processorName = builder.processorName;
        this.segmentCount = builder.segmentCount;
        this.nodeId = builder.nodeId;
        this.claimTimeout = builder.claimTimeout;
        this.nodes = new NodeHeartbeats(builder.nodes, transactionManager, nodeId, claimTimeout);
        this.clock = builder.clock;
        this.nanoTime = builder.nanoTime;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The processor name the segments are claimed under in the token store. */
    public String processorName() {
        return processorName;
    }

    /** This node's identifier in the node table. */
    public String nodeId() {
        return nodeId;
    }

    /** How many segments the outbox is split into. */
    public int segmentCount() {
        return segmentCount;
    }

    /** The segments this node owns now (a snapshot; safe from any thread). */
    public Set<Integer> ownedSegments() {
        return ownedView;
    }

    /** How many nodes were alive at the last round (this one included). */
    public int liveNodes() {
        return nodes.liveNodes();
    }

    /**
     * Creates the segments' tokens if none exist, and checks that the token store holds as many segments as
     * configured.
     *
     * @throws AxonConfigurationException when the token store has another number of segments for the processor
     */
    void initialize() {
        tokenStore = tokenStores.get();
        int[] existing = transactionManager.fetchInTransaction(() -> tokenStore.fetchSegments(processorName));
        if (existing.length == 0) {
            try {
                transactionManager.executeInTransaction(() -> tokenStore.initializeTokenSegments(
                        processorName, segmentCount, new GlobalSequenceTrackingToken(0)));
            } catch (RuntimeException e) {
                logger.debug("Initializing the outbox segments failed; another node may have done it", e);
            }
            existing = transactionManager.fetchInTransaction(() -> tokenStore.fetchSegments(processorName));
        }
        if (existing.length != segmentCount) {
            throw new AxonConfigurationException(
                    "The token store holds " + existing.length + " segment(s) for outbox processor '" + processorName
                            + "' but the outbox is configured with " + segmentCount + " (pulsar-outbox.segments). "
                            + "Rows keep the segment they were written with: configure " + existing.length
                            + " segments, or change the count only as described in docs/guarantees.md");
        }
    }

    /** Whether a round of claim work is due. */
    boolean roundDue() {
        return nanoTime.getAsLong() - nextRoundNanos >= 0;
    }

    /**
     * Extends this node's claims, writes its heartbeat, and claims available segments up to its fair share.
     *
     * @return what changed: segments gained (they must be resolved before sending) and segments lost (stop at once)
     */
    Changes round() {
        long started = nanoTime.getAsLong();
        nextRoundNanos = started + roundInterval().toNanos();
        Set<Integer> lost = new TreeSet<>();
        if (!owned.isEmpty()) {
            transactionManager.executeInTransaction(() -> {
                limitWaits();
                for (Integer segment : owned.keySet()) {
                    try {
                        tokenStore.extendClaim(processorName, segment);
                    } catch (UnableToClaimTokenException e) {
                        lost.add(segment);
                    }
                }
            });
            long validUntil = started + claimTimeout.toNanos() / 2;
            owned.forEach((segment, claim) -> claim.validUntilNanos = validUntil);
            lost.forEach(this::forget);
        }
        nodes.beat(clock.instant(), owned.keySet(), lockWait(), idleInTransactionLimit());
        int liveNodes = nodes.liveNodes();
        int share = (segmentCount + liveNodes - 1) / liveNodes;
        Set<Integer> gained = new TreeSet<>();
        if (owned.size() < share) {
            List<Integer> candidates = new ArrayList<>();
            for (Segment segment : transactionManager.fetchInTransaction(
                    () -> tokenStore.fetchAvailableSegments(processorName))) {
                if (!owned.containsKey(segment.getSegmentId())) {
                    candidates.add(segment.getSegmentId());
                }
            }
            Collections.shuffle(candidates);
            for (Integer segment : candidates) {
                if (owned.size() >= share) {
                    break;
                }
                long claimedAt = nanoTime.getAsLong();
                try {
                    TrackingToken token = transactionManager.fetchInTransaction(() -> {
                        limitWaits();
                        return tokenStore.fetchToken(processorName, segment);
                    });
                    Claim claim = new Claim();
                    claim.validUntilNanos = claimedAt + claimTimeout.toNanos() / 2;
                    sequences.start(segment, reservedIn(token));
                    owned.put(segment, claim);
                    gained.add(segment);
                } catch (UnableToClaimTokenException e) {
                    logger.trace("Outbox segment {} is claimed by another node", segment);
                }
            }
        }
        if (!gained.isEmpty() || !lost.isEmpty()) {
            logger.info("Outbox relay node {} owns segments {} of {} ({} live node(s)); gained {}, lost {}",
                        nodeId, owned.keySet(), segmentCount, liveNodes, gained, lost);
        }
        ownedView = Set.copyOf(owned.keySet());
        return new Changes(gained, lost);
    }

    /** The owned segments above this node's fair share that it should drain and release (highest first). */
    Set<Integer> surplus() {
        int liveNodes = nodes.liveNodes();
        int share = (segmentCount + liveNodes - 1) / liveNodes;
        Set<Integer> surplus = new TreeSet<>(releasing);
        List<Integer> mine = new ArrayList<>(owned.keySet());
        for (int i = mine.size() - 1; i >= 0 && mine.size() - surplus.size() > share; i--) {
            surplus.add(mine.get(i));
        }
        releasing.addAll(surplus);
        return surplus;
    }

    /**
     * Extends this node's claims between rounds, on the relay's claim-keeping thread, so that a relay thread that is
     * slow for a while (a long statement, a burst of work) does not let them lapse. Only extends: a claim it cannot
     * extend (another node holds it) is left for the next {@link #round()} to find lost; gaining and giving up segments
     * stay with the rounds.
     */
    void keep() {
        TokenStore store = tokenStore;
        if (store == null || owned.isEmpty()) {
            return;
        }
        long started = nanoTime.getAsLong();
        List<Integer> kept = new ArrayList<>();
        transactionManager.executeInTransaction(() -> {
            limitWaits();
            for (Integer segment : owned.keySet()) {
                try {
                    store.extendClaim(processorName, segment);
                    kept.add(segment);
                } catch (UnableToClaimTokenException e) {
                    logger.trace("Outbox segment {}: claim not extended ({}); the next round finds it lost", segment,
                                 e.getMessage());
                }
            }
        });
        long validUntil = started + claimTimeout.toNanos() / 2;
        for (Integer segment : kept) {
            Claim claim = owned.get(segment);
            if (claim != null && validUntil - claim.validUntilNanos > 0) {
                claim.validUntilNanos = validUntil;
            }
        }
    }

    /** The claim timeout (the token store's). */
    Duration claimTimeout() {
        return claimTimeout;
    }

    /** Releases a drained segment so that another node can claim it. */
    void release(int segment) {
        if (forget(segment)) {
            try {
                transactionManager.executeInTransaction(() -> {
                    limitWaits();
                    tokenStore.releaseClaim(processorName, segment);
                });
                logger.info("Outbox relay node {} released segment {} (owns {})", nodeId, segment, owned.keySet());
            } catch (RuntimeException e) {
                logger.warn("Releasing outbox segment {} failed; its claim expires instead", segment, e);
            }
        }
        ownedView = Set.copyOf(owned.keySet());
    }

    /** Releases every claim and removes this node's heartbeat (the relay stopped). */
    void releaseAll() {
        for (Integer segment : new ArrayList<>(owned.keySet())) {
            release(segment);
        }
        nodes.leave();
    }

    /**
     * Fences a write to the rows of {@code segments}: extends this node's claim of each (in ascending order, so that
     * two transactions of this node never wait for each other in a cycle) in the caller's transaction. Call it as the
     * last statement before the commit: the token rows stay locked only until then. Safe from any thread.
     *
     * @throws UnableToClaimTokenException when another node holds (or nobody holds) the claim of one of them: the
     *                                     caller's transaction must roll back
     */
    void fence(Collection<Integer> segments) {
        TokenStore store = tokenStore;
        if (store == null) {
            throw new UnableToClaimTokenException("The outbox segment claims are not initialized");
        }
        for (Integer segment : new TreeSet<>(segments)) {
            store.extendClaim(processorName, segment);
        }
    }

    /** Whether this node owns {@code segment} and may send its rows now (its claim was extended recently enough). */
    boolean isValid(int segment) {
        Claim claim = owned.get(segment);
        return claim != null && !releasing.contains(segment) && nanoTime.getAsLong() - claim.validUntilNanos < 0;
    }

    /**
     * Whether this node owns {@code segment} and its claim lapsed locally (not extended for half the claim timeout),
     * whether or not the segment is being released.
     */
    boolean lapsed(int segment) {
        Claim claim = owned.get(segment);
        return claim != null && nanoTime.getAsLong() - claim.validUntilNanos >= 0;
    }

    /** When (on the relay's monotonic clock) the claim of {@code segment} lapses locally unless extended; now if not owned. */
    long validUntilNanos(int segment) {
        Claim claim = owned.get(segment);
        return claim == null ? nanoTime.getAsLong() : claim.validUntilNanos;
    }

    /**
     * The longest a statement of a claim or relay write waits for a row lock: a quarter of the claim timeout, so that a
     * lock held by a frozen node fails the statement (it is retried) well before this node's own claims lapse.
     */
    Duration lockWait() {
        return claimTimeout.dividedBy(4);
    }

    /**
     * The longest the database lets a session of this node sit idle inside a claim or relay write: half the claim
     * timeout. A node frozen inside such a transaction has its session ended and its locks released by then, before
     * another node can claim its segments.
     */
    Duration idleInTransactionLimit() {
        return claimTimeout.dividedBy(2);
    }

    /** Bounds the waits of the current transaction (where the node table's database supports it). */
    private void limitWaits() {
        nodes.limitWaits(lockWait(), idleInTransactionLimit());
    }

    /** How often claims are extended: a fifth of the claim timeout (at least 50 ms). */
    Duration roundInterval() {
        return Duration.ofNanos(Math.max(claimTimeout.toNanos() / 5, 50_000_000L));
    }

    /** Whether {@code segment} is being drained to be released. */
    boolean isReleasing(int segment) {
        return releasing.contains(segment);
    }

    /** Whether this node owns {@code segment}, draining or not. */
    boolean owns(int segment) {
        return owned.containsKey(segment);
    }

    /** The segments this node may send from now. */
    Set<Integer> validSegments() {
        Set<Integer> valid = new HashSet<>();
        owned.keySet().forEach(segment -> {
            if (isValid(segment)) {
                valid.add(segment);
            }
        });
        return valid;
    }

    /** Makes every later sequence id of {@code segment} higher than {@code stored}. */
    void raise(int segment, long stored) {
        sequences.raise(segment, stored);
    }

    /**
     * Reserves sequence ids so that {@code needed} more can be assigned per segment, writing the tokens that need it
     * in one transaction (the token store refuses if a claim was lost).
     */
    void reserve(Map<Integer, Integer> needed) {
        Map<Integer, Long> writes = sequences.toReserve(needed);
        if (writes.isEmpty()) {
            return;
        }
        transactionManager.executeInTransaction(() -> {
            limitWaits();
            writes.forEach((segment, reserved) -> tokenStore.storeToken(new GlobalSequenceTrackingToken(reserved),
                                                                        processorName, segment));
        });
        sequences.reserved(writes);
    }

    /** The next sequence id of {@code segment}; {@link #reserve} must have made room for it. */
    long nextSequence(int segment) {
        return sequences.next(segment);
    }

    private boolean forget(int segment) {
        releasing.remove(segment);
        sequences.forget(segment);
        return owned.remove(segment) != null;
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

    /** Segments gained and lost in a round. */
    record Changes(Set<Integer> gained, Set<Integer> lost) {
    }

    /** A claim this node holds: until when it may send the segment's rows. */
    private static final class Claim {
        private volatile long validUntilNanos;
    }

    /**
     * Builds {@link SegmentClaims}. Required: {@link #tokenStore}. Defaults: processor name {@code pulsar-outbox},
     * {@value OutboxSegments#DEFAULT_COUNT} segments, claim timeout 10 s (Axon's default; it must equal the token
     * store's), node id the JVM's name ({@code pid@host}, as Axon's token stores use), no node table (then every node
     * claims all segments it can get: no rebalancing), {@link NoTransactionManager}.
     */
    public static final class Builder {
        private java.util.function.Supplier<TokenStore> tokenStore;
        private TransactionManager transactionManager = NoTransactionManager.instance();
        private OutboxNodes nodes;
        private String processorName = "pulsar-outbox";
        private int segmentCount = OutboxSegments.DEFAULT_COUNT;
        private String nodeId = ManagementFactory.getRuntimeMXBean().getName();
        private Duration claimTimeout = Duration.ofSeconds(10);
        private Clock clock = Clock.systemUTC();
        private java.util.function.LongSupplier nanoTime = System::nanoTime;

        private Builder() {
        }

        /** The token store the segments are claimed in: shared by all nodes. Required. */
        public Builder tokenStore(TokenStore tokenStore) {
            assertNonNull(tokenStore, "TokenStore may not be null");
            this.tokenStore = () -> tokenStore;
            return this;
        }

        /** The token store, looked up when the relay starts (e.g. from Axon's configuration). */
        public Builder tokenStore(java.util.function.Supplier<TokenStore> tokenStore) {
            assertNonNull(tokenStore, "TokenStore supplier may not be null");
            this.tokenStore = tokenStore;
            return this;
        }

        /** Transactions for the token store and node table. */
        public Builder transactionManager(TransactionManager transactionManager) {
            assertNonNull(transactionManager, "TransactionManager may not be null");
            this.transactionManager = transactionManager;
            return this;
        }

        /** Where nodes write their heartbeat, for fair shares. */
        public Builder nodes(OutboxNodes nodes) {
            this.nodes = nodes;
            return this;
        }

        public Builder processorName(String processorName) {
            assertThat(processorName, n -> n != null && !n.isBlank() && n.length() <= 200,
                       "processorName must be 1 to 200 characters");
            this.processorName = processorName;
            return this;
        }

        /** How many segments (must equal the store's, see {@code JdbcOutboxStore.Builder#segmentCount}). */
        public Builder segmentCount(int segmentCount) {
            assertThat(segmentCount, n -> n >= 1 && n <= OutboxSegments.MAX_COUNT,
                       "segmentCount must be between 1 and " + OutboxSegments.MAX_COUNT);
            this.segmentCount = segmentCount;
            return this;
        }

        /** This node's identifier in the node table (default: the JVM's name). */
        public Builder nodeId(String nodeId) {
            assertThat(nodeId, n -> n != null && !n.isBlank() && n.length() <= 255, "nodeId must be 1 to 255 chars");
            this.nodeId = nodeId;
            return this;
        }

        /** The token store's claim timeout (it must be the same value). */
        public Builder claimTimeout(Duration claimTimeout) {
            assertThat(claimTimeout, d -> d != null && d.toMillis() >= 500, "claimTimeout must be at least 500 ms");
            this.claimTimeout = claimTimeout;
            return this;
        }

        public Builder clock(Clock clock) {
            assertNonNull(clock, "Clock may not be null");
            this.clock = clock;
            return this;
        }

        /** The monotonic clock of claim validity (default {@code System::nanoTime}); for simulations. */
        Builder nanoTime(java.util.function.LongSupplier nanoTime) {
            assertNonNull(nanoTime, "nanoTime may not be null");
            this.nanoTime = nanoTime;
            return this;
        }

        public SegmentClaims build() {
            return new SegmentClaims(this);
        }

        void validate() {
            assertNonNull(tokenStore, "The TokenStore is a hard requirement and should be provided");
        }
    }
}
