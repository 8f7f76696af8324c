package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.store.OutboxNodes;
import io.github.pulsaroutbox.store.TokenTable;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;

import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

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
 *     claim is confirmed in the same database transaction, its token row locked until the transaction ends (shared
 *     where the database has shared row locks, else by extending the claim), so the write commits only while this
 *     node holds the claim (a node that lost it while paused has the write rolled back), and no other node can claim
 *     the segment until that transaction ends.</li>
 * </ul>
 * All methods except {@link #ownedSegments()}, {@link #fence} and {@link #keep} are called from the relay's thread
 * only.
 * <p>
 * Its parts: {@code ClaimTokens} reads and writes the segments' tokens, {@code OwnedClaims} holds the owned claims and
 * their local validity, {@code ClaimRounds} extends, gains and gives them up, {@code ClaimTiming} derives the
 * intervals from the claim timeout, {@code NodeHeartbeats} counts the live nodes and {@code SequenceReservations}
 * keeps the sequence ids.
 */
public final class SegmentClaims {

    private final NodeHeartbeats nodes;
    private final String processorName;
    private final int segmentCount;
    private final String nodeId;
    private final ClaimTiming timing;
    /** The segments' tokens in the token store (read by the sequencer and recorder threads too: {@link #fence}). */
    private final ClaimTokens tokens;
    /** The owned segments and until when each may be sent (read by the claim-keeping thread too: {@link #keep}). */
    private final OwnedClaims owned;
    /** The broker sequence ids of the owned segments. */
    private final SequenceReservations sequences = new SequenceReservations();
    /** Extends, gains, gives up and releases the claims. */
    private final ClaimRounds rounds;

    private SegmentClaims(Builder builder) {
        builder.validate();
        this.processorName = builder.processorName;
        this.segmentCount = builder.segmentCount;
        this.nodeId = builder.nodeId;
        this.timing = new ClaimTiming(builder.claimTimeout);
        this.nodes = new NodeHeartbeats(builder.nodes, builder.transactionManager, nodeId, builder.claimTimeout);
        this.tokens = new ClaimTokens(builder.tokenStore, builder.transactionManager, processorName,
                                      WaitLimits.of(() -> nodes.limitWaits(lockWait(), idleInTransactionLimit()),
                                                    nodes::restoreWaits),
                                      new TokenTableFence(builder.nodes, builder.tokenTables(), processorName,
                                                          builder.claimTimeout));
        this.owned = new OwnedClaims(builder.nanoTime);
        this.rounds = new ClaimRounds(tokens, owned, sequences, nodes, timing, segmentCount, nodeId, builder.clock,
                                      builder.nanoTime);
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
        return owned.view();
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
        tokens.initialize(segmentCount);
    }

    /**
     * For a node that writes rows but does not relay them: checks that the token store holds no segments yet or as
     * many as configured, since each row keeps the segment it was written in and the relays read rows by segment.
     *
     * @throws AxonConfigurationException when the token store has another number of segments for the processor
     */
    public void checkSegmentCount() {
        tokens.check(segmentCount);
    }

    /** Whether a round of claim work is due. */
    boolean roundDue() {
        return rounds.due();
    }

    /**
     * Extends this node's claims, writes its heartbeat, and claims available segments up to its fair share.
     *
     * @return what changed: segments gained (they must be resolved before sending) and segments lost (stop at once)
     */
    Changes round() {
        return rounds.round();
    }

    /** The owned segments above this node's fair share that it should drain and release (highest first). */
    Set<Integer> surplus() {
        return rounds.surplus();
    }

    /**
     * Extends this node's claims between rounds, on the relay's claim-keeping thread, so that a relay thread that is
     * slow for a while (a long statement, a burst of work) does not let them lapse. Only extends: a claim it cannot
     * extend (another node holds it) is left for the next {@link #round()} to find lost; gaining and giving up segments
     * stay with the rounds.
     */
    void keep() {
        rounds.keep();
    }

    /** Releases a drained segment so that another node can claim it. */
    void release(int segment) {
        rounds.release(segment);
    }

    /** Releases every claim and removes this node's heartbeat (the relay stopped). */
    void releaseAll() {
        rounds.releaseAll();
    }

    /**
     * Fences a write to the rows of {@code segments}: confirms this node's claim of each, locking its token row (in
     * ascending order, so that two transactions never wait for each other in a cycle), in the caller's transaction.
     * Call it as the last statement before the commit: the token rows stay locked only until then. Safe from any
     * thread.
     *
     * @throws UnableToClaimTokenException when another node holds (or nobody holds) the claim of one of them: the
     *                                     caller's transaction must roll back
     */
    void fence(Collection<Integer> segments) {
        tokens.fence(segments);
    }

    /** Whether this node owns {@code segment} and may send its rows now (its claim was extended recently enough). */
    boolean isValid(int segment) {
        return owned.isValid(segment);
    }

    /**
     * Whether this node owns {@code segment} and its claim lapsed locally (not extended for half the claim timeout),
     * whether or not the segment is being released.
     */
    boolean lapsed(int segment) {
        return owned.lapsed(segment);
    }

    /** When (on the relay's monotonic clock) the claim of {@code segment} lapses locally unless extended; now if not owned. */
    long validUntilNanos(int segment) {
        return owned.validUntilNanos(segment);
    }

    /** Whether {@code segment} is being drained to be released. */
    boolean isReleasing(int segment) {
        return owned.isReleasing(segment);
    }

    /** Whether this node owns {@code segment}, draining or not. */
    boolean owns(int segment) {
        return owned.owns(segment);
    }

    /** The segments this node may send from now. */
    Set<Integer> validSegments() {
        return owned.valid();
    }

    /** The claim timeout (the token store's). */
    Duration claimTimeout() {
        return timing.claimTimeout();
    }

    /** How often claims are extended: {@link ClaimTiming#roundInterval()}. */
    Duration roundInterval() {
        return timing.roundInterval();
    }

    /** The longest a statement of a claim or relay write waits for a row lock: {@link ClaimTiming#lockWait()}. */
    Duration lockWait() {
        return timing.lockWait();
    }

    /** The longest a session may sit idle in a claim or relay write: {@link ClaimTiming#idleInTransactionLimit()}. */
    Duration idleInTransactionLimit() {
        return timing.idleInTransactionLimit();
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
        tokens.storeReserved(writes);
        sequences.reserved(writes);
    }

    /** The next sequence id of {@code segment}; {@link #reserve} must have made room for it. */
    long nextSequence(int segment) {
        return sequences.next(segment);
    }

    /** Segments gained and lost in a round. */
    record Changes(Set<Integer> gained, Set<Integer> lost) {
    }

    /**
     * Builds {@link SegmentClaims}. Required: {@link #tokenStore}. Defaults: processor name {@code pulsar-outbox},
     * {@value OutboxSegments#DEFAULT_COUNT} segments, claim timeout 10 s (Axon's default; it must equal the token
     * store's), node id the JVM's name ({@code pid@host}, as Axon's token stores use), no node table (then every node
     * claims all segments it can get: no rebalancing), {@link NoTransactionManager}.
     */
    public static final class Builder {
        private Supplier<TokenStore> tokenStore;
        private TransactionManager transactionManager = NoTransactionManager.instance();
        private OutboxNodes nodes;
        private String processorName = "pulsar-outbox";
        private int segmentCount = OutboxSegments.DEFAULT_COUNT;
        private String nodeId = ManagementFactory.getRuntimeMXBean().getName();
        private Duration claimTimeout = Duration.ofSeconds(10);
        private Clock clock = Clock.systemUTC();
        private LongSupplier nanoTime = System::nanoTime;
        private TokenTable tokenTable;

        private Builder() {
        }

        /** The token store the segments are claimed in: shared by all nodes. Required. */
        public Builder tokenStore(TokenStore tokenStore) {
            assertNonNull(tokenStore, "TokenStore may not be null");
            this.tokenStore = () -> tokenStore;
            return this;
        }

        /** The token store, looked up when the relay starts (e.g. from Axon's configuration). */
        public Builder tokenStore(Supplier<TokenStore> tokenStore) {
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

        /**
         * Where the token store keeps its tokens, if it is a {@code JdbcTokenStore} with a custom {@code TokenSchema}
         * (Axon's JPA and JDBC defaults are tried without it): with a node table on the same database, a write's
         * claims are then fenced in one round trip instead of one token-store call per segment. A table the token
         * store does not write is detected at the first claims and not used.
         */
        public Builder tokenTable(TokenTable tokenTable) {
            assertNonNull(tokenTable, "TokenTable may not be null");
            this.tokenTable = tokenTable;
            return this;
        }

        /** The tables tried for the one-round-trip fence: the configured one first, then Axon's defaults. */
        List<TokenTable> tokenTables() {
            Set<TokenTable> tables = new LinkedHashSet<>();
            if (tokenTable != null) {
                tables.add(tokenTable);
            }
            tables.add(TokenTable.JPA);
            tables.add(TokenTable.JDBC);
            return List.copyOf(tables);
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
        Builder nanoTime(LongSupplier nanoTime) {
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
