package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.common.transaction.TransactionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.IntStream;

import static org.axonframework.common.BuilderUtils.assertNonNull;
import static org.axonframework.common.BuilderUtils.assertThat;

/**
 * Streams pending outbox rows to the broker, in insertion order, on one thread of its own.
 * <p>
 * Guarantees:
 * <ul>
 *     <li><b>Acknowledged before sent</b>: a row is marked SENT only after the broker acknowledged it. A row that is
 *     not acknowledged (send failed, timed out, or no topic resolved) is handed to the {@link FailurePolicy}: it
 *     waits for a retry (attempts, next attempt time and error stored on the row, so a restart continues the
 *     schedule), is parked (FAILED) or discarded. Nothing is lost or skipped, also for rows that commit late.</li>
 *     <li><b>Per-aggregate order</b>: rows of one aggregate are handed to the publisher in insertion (= aggregate
 *     sequence) order, all to the same topic and key, with at most one unacknowledged at a time, unless the publisher
 *     guarantees that a failed send fails every later send on the same topic
 *     ({@link OutboxPublisher#failsLaterSendsAfterAFailure()}), when they are pipelined. After a failure of a row, no
 *     later row of its aggregate is sent, and none acknowledged after it is marked SENT, so they are re-sent after it;
 *     while a row waits for its retry or is parked, later rows of its aggregate wait too, and other aggregates flow
 *     on.</li>
 *     <li><b>Overlapped work, no round trip per row</b>: sends are asynchronous (at most {@code maxInFlight}
 *     unacknowledged); an aggregate's next row goes out as soon as the previous one is acknowledged; acknowledged
 *     rows are recorded SENT in set-sized batches by a recorder thread while this thread keeps sending, and the next
 *     rows are fetched while acknowledgements are outstanding. Full scans of due pending rows in position order
 *     (which find rows that commit late) alternate with reads ahead of the highest position seen; rows already in
 *     flight or being recorded are skipped.</li>
 *     <li><b>Current schema</b>: each row passes the {@link EntryUpcaster} first; a row that cannot be upcast is
 *     parked ({@link FailureKind#UPCAST_FAILED}) and its aggregate waits, the rest of the stream continues.</li>
 *     <li><b>Low latency</b>: {@link #wakeUp()} (called after a capturing unit of work commits) starts a pass at
 *     once; polling every {@code pollInterval} is the fallback for rows written by other nodes.</li>
 *     <li><b>Several nodes</b>: with {@link SegmentClaims} each node relays only the segments it claims; every write
 *     to a segment's rows that a new owner relies on (sequence ids, resolution outcomes, failures, cleared ids)
 *     commits only while this node holds that segment's claim, checked in the same transaction, and a recording of
 *     SENT rows only while the claim is valid locally (it is true whoever owns the segment); a segment whose claim
 *     lapses locally has its producers closed at once. Without claims, run one relay per outbox.</li>
 * </ul>
 * Its parts: {@code RelayWorker} is the relay's thread, {@code RelayLoop} drives a {@code RelayPipeline} on it (which
 * wires the stages a row goes through), {@code RelaySignals} carries wake-ups and rescan requests to it.
 */
public final class OutboxRelay {

    private static final Logger logger = LoggerFactory.getLogger(OutboxRelay.class);

    private final String name;
    private final SegmentClaims claims;
    private volatile boolean running;
    /** Wake-ups and rescan requests for the relay thread: what a pipeline asks of this relay. */
    private final RelaySignals signals = new RelaySignals(() -> running);
    /** With segment claims: extends them between the relay thread's rounds while that thread progresses. */
    private final ClaimKeeper claimKeeper;
    /** What each pipeline is built from. */
    private final RelaySetup setup;
    /** Runs a pipeline on the relay thread and hands the segments back when it ends. */
    private final RelayLoop loop;
    /** The relay thread. */
    private final RelayWorker worker;
    private volatile RelayPipeline current;
    /** Rows the broker acknowledged that the store did not record SENT: this relay never sends them again. */
    private final NotRecordedRows notRecorded = new NotRecordedRows();
    private final TransportWatch transport = new TransportWatch();

    private OutboxRelay(Builder builder) {
        builder.validate();
        OutboxPublisher publisher = builder.publisher;
        this.name = builder.name;
        this.claims = builder.claims;
        int segmentCount = claims != null ? claims.segmentCount() : builder.store.segmentCount();
        this.claimKeeper = claims == null ? null : new ClaimKeeper(claims, name, System::nanoTime);
        Set<Integer> allSegments = Set.copyOf(IntStream.range(0, segmentCount).boxed().toList());
        this.setup = new RelaySetup(builder.store, publisher,
                                    new RowTopics(builder.topicResolver, builder.capturedAggregates),
                                    builder.transactionManager, builder.batchSize, builder.maxInFlight,
                                    builder.pollInterval, builder.ackTimeout, builder.clock, System::nanoTime, name,
                                    builder.failurePolicy, builder.metrics, builder.upcaster, claims,
                                    claims != null && publisher.supportsSequenceIds(), segmentCount, allSegments,
                                    new FencedWrites(builder.transactionManager, builder.store, claims), notRecorded,
                                    transport, RelayThreads.DAEMONS);
        this.loop = new RelayLoop(publisher, claims, claimKeeper, signals, builder.pollInterval, setup.stepWait(),
                                  segmentCount, name);
        this.worker = new RelayWorker(name, builder.ackTimeout.plusSeconds(10));
    }

    /** The segment claims of this relay, if it runs with them (several nodes); empty when it relays every segment. */
    public Optional<SegmentClaims> segmentClaims() {
        return Optional.ofNullable(claims);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts the relay thread (idempotent). */
    public synchronized void start() {
        if (running) {
            return;
        }
        worker.checkStopped();
        if (claims != null) {
            claims.initialize();
        }
        running = true;
        if (claimKeeper != null) {
            claimKeeper.start();
        }
        setup.topics().clear();
        worker.start(this::run);
        logger.info("Outbox relay '{}' started (batch size {}, max in flight {}, poll interval {})",
                    name, setup.batchSize(), setup.maxInFlight(), setup.pollInterval());
    }

    /**
     * Stops the relay: the current pass finishes (its acknowledgements are awaited and recorded), then the thread
     * ends. If it does not end within the ack timeout (plus 10 s), it is interrupted: rows not yet recorded as sent
     * stay pending and are sent again later. Returns once the thread has ended, or reports that it did not.
     */
    public synchronized void shutdown() {
        running = false;
        wakeUp();
        worker.stop();
    }

    /** Whether the relay thread is running (false once it stopped, also after an unexpected error). */
    public boolean isRunning() {
        return running && worker.isAlive();
    }

    /**
     * How many rows the broker acknowledged that the store then did not record SENT ({@link FailureKind#NOT_RECORDED}),
     * since this relay was built. Such rows are never sent again by it; they are parked for an operator.
     */
    public int notRecordedCount() {
        return notRecorded.size();
    }

    /**
     * What this relay saw of the broker lately: since when sends fail without an acknowledgement, topics whose
     * producers cannot be opened, rows it parked by kind. Cheap; never blocks.
     */
    public RelayHealth health() {
        return transport.snapshot();
    }

    /**
     * Asks for a pass that scans the pending rows from the lowest position, e.g. because an operator released parked
     * rows: rows the relay skipped as held back may now be due. Cheap; never blocks.
     */
    public void rescan() {
        signals.requestRescan();
        wakeUp();
    }

    /** Asks for a pass now, e.g. because rows were just committed. Cheap; never blocks. */
    public void wakeUp() {
        signals.wakeUp();
        RelayPipeline pipeline = current;
        if (pipeline != null) {
            pipeline.signal(); // also ends a wait for acknowledgements: new rows may be sent meanwhile
        }
    }

    private void run() {
        Thread self = Thread.currentThread();
        RelayPipeline pipeline = new RelayPipeline(setup, signals);
        current = pipeline;
        try {
            loop.run(pipeline, () -> running && worker.is(self));
        } finally {
            loop.end(pipeline);
            if (worker.is(self)) {
                running = false;
                current = null;
            }
        }
    }

    /**
     * One self-contained pass, for tests and tools: fetch one batch, publish it (sending an aggregate's next row as
     * soon as the previous one is acknowledged), wait for every acknowledgement or the ack timeout, and record the
     * outcome.
     */
    PassResult relayPass() throws InterruptedException {
        RelayPipeline pipeline = new RelayPipeline(setup, signals);
        int fetched = pipeline.fetch();
        pipeline.dispatch();
        while (pipeline.busy()) {
            pipeline.awaitSignal(pipeline.nextDeadlineNanos());
            pipeline.collect();
            pipeline.sendAssigned();
            pipeline.admitWaiting();
            pipeline.dispatch();
        }
        int sent = pipeline.acknowledgedCount();
        int failed = pipeline.failedCount();
        try {
            pipeline.flushAndWait();
        } finally {
            pipeline.close();
        }
        return new PassResult(fetched, sent, fetched - sent - failed);
    }

    /** The outcome of one pass: rows fetched, rows marked sent, rows left for the next pass to keep order. */
    record PassResult(int fetched, int sent, int deferred) {
    }

    /**
     * Builds an {@link OutboxRelay}. Required: {@link #store}, {@link #publisher}, {@link #topicResolver}. Defaults:
     * batch size 500, max in flight 1000, poll interval 1 s, ack timeout 60 s, {@link NoTransactionManager}, no
     * annotated topics.
     */
    public static final class Builder {
        private OutboxStore store;
        private OutboxPublisher publisher;
        private TopicResolver topicResolver;
        private Supplier<CapturedAggregates> capturedAggregates = CapturedAggregates::none;
        private TransactionManager transactionManager = NoTransactionManager.instance();
        private int batchSize = 500;
        private int maxInFlight = 1000;
        private Duration pollInterval = Duration.ofSeconds(1);
        private Duration ackTimeout = Duration.ofSeconds(60);
        private Clock clock = Clock.systemUTC();
        private String name = "outbox-relay";
        private FailurePolicy failurePolicy = BackoffFailurePolicy.defaults();
        private OutboxMetrics metrics = OutboxMetrics.NOOP;
        private Supplier<EntryUpcaster> upcaster = () -> EntryUpcaster.NONE;
        private SegmentClaims claims;

        private Builder() {
        }

        /**
         * Runs the relay on several nodes: it relays only the segments it claims ({@link SegmentClaims}), and, when
         * the publisher supports it, sends with persisted broker sequence ids (effectively-once with the broker's
         * deduplication). Without claims (the default) this relay sends every segment: run one per outbox.
         */
        public Builder segmentClaims(SegmentClaims claims) {
            assertNonNull(claims, "SegmentClaims may not be null");
            this.claims = claims;
            return this;
        }

        public Builder store(OutboxStore store) {
            assertNonNull(store, "OutboxStore may not be null");
            this.store = store;
            return this;
        }

        public Builder publisher(OutboxPublisher publisher) {
            assertNonNull(publisher, "OutboxPublisher may not be null");
            this.publisher = publisher;
            return this;
        }

        public Builder topicResolver(TopicResolver topicResolver) {
            assertNonNull(topicResolver, "TopicResolver may not be null");
            this.topicResolver = topicResolver;
            return this;
        }

        /** The captured aggregates, for the topics named by their annotations. */
        public Builder capturedAggregates(Supplier<CapturedAggregates> capturedAggregates) {
            assertNonNull(capturedAggregates, "CapturedAggregates supplier may not be null");
            this.capturedAggregates = capturedAggregates;
            return this;
        }

        /** The transaction manager for the relay's reads and status updates. */
        public Builder transactionManager(TransactionManager transactionManager) {
            assertNonNull(transactionManager, "TransactionManager may not be null");
            this.transactionManager = transactionManager;
            return this;
        }

        /**
         * Rows read per fetch (default 500); the relay reads again when at most a batch is queued or in flight (that
         * batch awaits the broker while it reads, up to two after the read), unless its working set, rows waiting for
         * a producer session not counted, holds more than three batches.
         */
        public Builder batchSize(int batchSize) {
            assertThat(batchSize, n -> n > 0, "batchSize must be positive");
            this.batchSize = batchSize;
            return this;
        }

        /** Sends awaiting acknowledgement at most (default 1000). */
        public Builder maxInFlight(int maxInFlight) {
            assertThat(maxInFlight, n -> n > 0, "maxInFlight must be positive");
            this.maxInFlight = maxInFlight;
            return this;
        }

        /**
         * How often to look for rows without a wake-up signal, and the longest time between full scans (default 1 s).
         */
        public Builder pollInterval(Duration pollInterval) {
            assertThat(pollInterval, d -> d != null && !d.isNegative() && !d.isZero(),
                       "pollInterval must be positive");
            this.pollInterval = pollInterval;
            return this;
        }

        /** How long a send may wait for its acknowledgement before it counts as a failed attempt (default 60 s). */
        public Builder ackTimeout(Duration ackTimeout) {
            assertThat(ackTimeout, d -> d != null && !d.isNegative() && !d.isZero(), "ackTimeout must be positive");
            this.ackTimeout = ackTimeout;
            return this;
        }

        public Builder clock(Clock clock) {
            assertNonNull(clock, "Clock may not be null");
            this.clock = clock;
            return this;
        }

        /** The relay thread's name (default {@code outbox-relay}). */
        public Builder name(String name) {
            assertThat(name, n -> n != null && !n.isBlank(), "name may not be blank");
            this.name = name;
            return this;
        }

        /** What to do after a failed attempt (default: {@link BackoffFailurePolicy#defaults()}). */
        public Builder failurePolicy(FailurePolicy failurePolicy) {
            assertNonNull(failurePolicy, "FailurePolicy may not be null");
            this.failurePolicy = failurePolicy;
            return this;
        }

        /** Brings each row to the version it is published at (default: as captured). */
        public Builder upcaster(Supplier<EntryUpcaster> upcaster) {
            assertNonNull(upcaster, "EntryUpcaster supplier may not be null");
            this.upcaster = upcaster;
            return this;
        }

        /** Where to report what the relay does (default: nowhere). */
        public Builder metrics(OutboxMetrics metrics) {
            assertNonNull(metrics, "OutboxMetrics may not be null");
            this.metrics = metrics;
            return this;
        }

        public OutboxRelay build() {
            return new OutboxRelay(this);
        }

        void validate() throws AxonConfigurationException {
            assertNonNull(store, "The OutboxStore is a hard requirement and should be provided");
            assertNonNull(publisher, "The OutboxPublisher is a hard requirement and should be provided");
            assertNonNull(topicResolver, "The TopicResolver is a hard requirement and should be provided");
            RelayChecks.consistent(store, publisher, claims, ackTimeout, maxInFlight);
        }
    }
}
