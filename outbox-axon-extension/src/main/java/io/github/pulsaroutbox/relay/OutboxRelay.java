package io.github.pulsaroutbox.relay;

import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.common.transaction.TransactionManager;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.OutboxStore;
import io.github.pulsaroutbox.store.OutboxStore.Failure;
import io.github.pulsaroutbox.store.OutboxStore.Outcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

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
 */
public final class OutboxRelay {

    private static final Logger logger = LoggerFactory.getLogger(OutboxRelay.class);
    /** The payload of a row whose payload could not be serialized at capture. */
    private static final String PARKED_AT_CAPTURE = "null";
    /** With sequence ids: rows sent together once this many aggregates are ready (see {@code dispatchDue}). */
    private static final int DISPATCH_GROUP = 64;
    /** With sequence ids: the longest a ready row waits for others to be sent with (one transaction for all). */
    private static final long DISPATCH_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private final OutboxStore store;
    private final OutboxPublisher publisher;
    private final RowTopics topics;
    private final TransactionManager transactionManager;
    private final int batchSize;
    private final int maxInFlight;
    private final Duration pollInterval;
    private final Duration ackTimeout;
    private final Clock clock;
    private final String name;
    private final FailurePolicy failurePolicy;
    private final OutboxMetrics metrics;
    private final Supplier<EntryUpcaster> upcaster;
    private final SegmentClaims claims;
    /** Whether rows are sent with persisted broker sequence ids (segment claims and a transport that has them). */
    private final boolean sequenced;
    private final int segmentCount;
    private final Set<Integer> allSegments;

    private final Semaphore wakeUps = new Semaphore(0);
    /** With segment claims: extends them between the relay thread's rounds while that thread progresses. */
    private final ClaimKeeper claimKeeper;
    private final FencedWrites writes;
    private volatile boolean rescanRequested;
    private volatile boolean running;
    private volatile Thread worker;
    private volatile Pipeline current;
    /** Rows the broker acknowledged that the store did not record SENT: this relay never sends them again. */
    private final NotRecordedRows notRecorded = new NotRecordedRows();
    private final TransportWatch transport = new TransportWatch();

    private OutboxRelay(Builder builder) {
        builder.validate();
        this.store = builder.store;
        this.publisher = builder.publisher;
        this.topics = new RowTopics(builder.topicResolver, builder.capturedAggregates);
        this.transactionManager = builder.transactionManager;
        this.batchSize = builder.batchSize;
        this.maxInFlight = builder.maxInFlight;
        this.pollInterval = builder.pollInterval;
        this.ackTimeout = builder.ackTimeout;
        this.clock = builder.clock;
        this.name = builder.name;
        this.failurePolicy = builder.failurePolicy;
        this.metrics = builder.metrics;
        this.upcaster = builder.upcaster;
        this.claims = builder.claims;
        this.sequenced = claims != null && publisher.supportsSequenceIds();
        this.segmentCount = claims != null ? claims.segmentCount() : store.segmentCount();
        this.allSegments = Set.copyOf(java.util.stream.IntStream.range(0, segmentCount).boxed().toList());
        this.claimKeeper = claims == null ? null : new ClaimKeeper(claims, name, System::nanoTime);
        this.writes = new FencedWrites(transactionManager, store, claims);
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
        Thread previous = worker;
        if (previous != null && previous.isAlive()) {
            throw new IllegalStateException("Outbox relay '" + name + "' is still stopping; not starting a second one");
        }
        if (claims != null) {
            claims.initialize();
        }
        running = true;
        if (claimKeeper != null) {
            claimKeeper.start();
        }
        topics.clear();
        Thread thread = new Thread(this::run, name);
        thread.setDaemon(true);
        worker = thread;
        thread.start();
        logger.info("Outbox relay '{}' started (batch size {}, max in flight {}, poll interval {})",
                    name, batchSize, maxInFlight, pollInterval);
    }

    /**
     * Stops the relay: the current pass finishes (its acknowledgements are awaited and recorded), then the thread
     * ends. If it does not end within the ack timeout (plus 10 s), it is interrupted: rows not yet recorded as sent
     * stay pending and are sent again later. Returns once the thread has ended, or reports that it did not.
     */
    public synchronized void shutdown() {
        running = false;
        wakeUp();
        Thread thread = worker;
        if (thread == null) {
            return;
        }
        try {
            thread.join(ackTimeout.plusSeconds(10).toMillis());
            if (thread.isAlive()) {
                logger.warn("Outbox relay '{}' did not finish its pass in time; interrupting it", name);
                thread.interrupt();
                thread.join(10_000);
            }
        } catch (InterruptedException e) {
            thread.interrupt();
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            logger.error("Outbox relay '{}' thread did not stop", name);
        } else {
            worker = null;
            logger.info("Outbox relay '{}' stopped", name);
        }
    }

    /** Whether the relay thread is running (false once it stopped, also after an unexpected error). */
    public boolean isRunning() {
        Thread thread = worker;
        return running && thread != null && thread.isAlive();
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
        rescanRequested = true;
        wakeUp();
    }

    /** Asks for a pass now, e.g. because rows were just committed. Cheap; never blocks. */
    public void wakeUp() {
        if (wakeUps.availablePermits() == 0) {
            wakeUps.release();
        }
        Pipeline pipeline = current;
        if (pipeline != null) {
            pipeline.signals.release(); // also ends a wait for acknowledgements: new rows may be sent meanwhile
        }
    }

    private void run() {
        Thread self = Thread.currentThread();
        Duration errorBackoff = min(pollInterval, maxErrorBackoff());
        Pipeline pipeline = new Pipeline();
        current = pipeline;
        try {
            while (running && worker == self) {
                if (claimKeeper != null) {
                    claimKeeper.progressed();
                }
                try {
                    boolean caughtUp = pipeline.step();
                    errorBackoff = min(pollInterval, maxErrorBackoff());
                    if (caughtUp) {
                        // nothing in flight and the last fetch found no more: wait for a commit or the poll interval
                        awaitWork(claims == null ? pollInterval : min(pollInterval, claims.roundInterval()));
                    }
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    logger.warn("Outbox relay pass failed; retrying in {}", errorBackoff, e);
                    pipeline.abandon();
                    awaitWork(errorBackoff);
                    errorBackoff = min(errorBackoff.multipliedBy(2), maxErrorBackoff());
                }
            }
            pipeline.finish();
        } catch (InterruptedException e) {
            logger.debug("Outbox relay '{}' interrupted", name);
        } catch (Throwable t) {
            logger.error("Outbox relay '{}' stopped by an unexpected error; pending rows wait for a restart", name, t);
        } finally {
            boolean idle = pipeline.close();
            if (claimKeeper != null) {
                claimKeeper.stop();
            }
            if (claims != null) {
                try {
                    for (int segment = 0; segment < segmentCount; segment++) {
                        publisher.closeSegment(segment); // before the claims go: no producer may hold the names
                    }
                    if (idle) {
                        claims.releaseAll();
                    } else {
                        logger.warn("Outbox relay '{}': a transaction persisting broker sequence ids is still running; "
                                            + "its segment claims are left to expire instead of being released", name);
                    }
                } catch (RuntimeException e) {
                    logger.warn("Outbox relay '{}' could not release its segment claims; they expire", name, e);
                }
            }
            if (worker == self) {
                running = false;
                current = null;
            }
        }
    }

    /**
     * The longest wait after a failed pass: 30 s, but with segment claims no longer than a claim round's interval, so
     * that a few database hiccups never keep this node from extending its claims until they lapse.
     */
    Duration maxErrorBackoff() {
        Duration longest = Duration.ofSeconds(30);
        return claims == null ? longest : min(longest, claims.roundInterval());
    }

    private void awaitWork(Duration timeout) throws InterruptedException {
        if (wakeUps.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            wakeUps.drainPermits();
        }
    }

    /**
     * One self-contained pass, for tests and tools: fetch one batch, publish it (sending an aggregate's next row as
     * soon as the previous one is acknowledged), wait for every acknowledgement or the ack timeout, and record the
     * outcome.
     */
    PassResult relayPass() throws InterruptedException {
        Pipeline pipeline = new Pipeline();
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

    /**
     * The relay's working set, owned by one thread: rows fetched and not yet recorded, per aggregate. Broker
     * acknowledgements arrive on the transport's threads and are only queued here; everything else happens on the
     * owning thread. Sending, acknowledging, recording and fetching overlap: while acknowledgements of earlier rows
     * are awaited, acknowledged rows are recorded SENT and the next rows are fetched and sent.
     * <p>
     * Order: rows of an aggregate are queued in fetch (position) order; at most one is unacknowledged at a time,
     * unless the publisher fails every later send of a failed one
     * ({@link OutboxPublisher#failsLaterSendsAfterAFailure()}), when they are pipelined. After a failure, the
     * aggregate's queued rows are dropped and rows of it acknowledged after the failure are not recorded: they stay
     * pending and are fetched again, behind the failed row, once its failure is recorded (and the database query
     * holds them back while it waits or is parked).
     * <p>
     * Fetching alternates full scans and reads ahead by position; see {@link #fetch()} for why reading ahead never
     * lets a row overtake an earlier one of its aggregate.
     */
    private final class Pipeline implements OutcomeRecorder.WorkingSet, SegmentLifecycle.WorkingSet {
        private final boolean pipelinePerKey = publisher.failsLaterSendsAfterAFailure();
        private final Map<String, ArrayDeque<RelayRow>> queued = new HashMap<>();
        private final Map<String, ArrayDeque<RelayRow>> inFlight = new HashMap<>();
        private final Set<String> ready = new LinkedHashSet<>();
        /** Rows in the working set (fetched and not yet recorded), with their segment. */
        private final Map<String, Integer> known = new HashMap<>();
        /** Per segment, how many rows of it are in the working set. */
        private final int[] busy = new int[segmentCount];
        /** Rows (in flight, not yet sent, no sequence id yet) waiting for their session to open, by session. */
        private final Map<String, List<RelayRow>> waitingForSession = new LinkedHashMap<>();
        /**
         * Rows waiting for a session: kept out of {@code inFlightCount} (and the fetch limits), so that a topic whose
         * lookup hangs does not use up the working set of the topics that flow.
         */
        private int waitingCount;
        /** Aggregates with a row waiting for its session: their later rows are not queued meanwhile. */
        private final Set<String> waitingKeys = new HashSet<>();
        private final Set<String> blockedKeys = new HashSet<>();
        private final ArrayDeque<RelayRow> sendOrder = new ArrayDeque<>();
        private final Queue<RelayRow> completions = new ConcurrentLinkedQueue<>();
        private final Semaphore signals = new Semaphore(0);
        /** The producer sessions per topic (and segment), opened without blocking this thread. */
        private final ProducerSessions sessions = new ProducerSessions(publisher, sequenced, ackTimeout, pollInterval,
                                                                       transport, System::nanoTime, signals::release);
        /** Plans the reads of pending rows (full scans, continuations, the held-back prefix). */
        private final FetchPlanner planner = new FetchPlanner(store, transactionManager, clock, System::nanoTime,
                                                              batchSize, pollInterval, name);
        private long lastDispatchNanos = System.nanoTime();
        /** Records the outcomes (SENT, failures) on a thread of its own. */
        private final OutcomeRecorder recorder = new OutcomeRecorder(
                store, transactionManager, writes, claims, failurePolicy, clock, System::nanoTime, segmentCount,
                batchSize, name, metrics, transport, notRecorded, this, signals::release);
        /** Which owned segments may send, are resolving or closing (claims mode). */
        private final SegmentLifecycle lifecycle = new SegmentLifecycle(
                claims, segmentCount, allSegments, sessions,
                new SegmentResolver(store, transactionManager, writes, claims, sessions, topics, recorder::neverStored,
                                    clock, System::nanoTime, ackTimeout),
                planner, pollInterval, System::nanoTime, this);
        /** With sequence ids: gives prepared rows their ids, persisted before they are sent. */
        private final Sequencer sequencer = new Sequencer(store, writes, claims, sessions, name, new Sequencer.Rows() {
            @Override
            public boolean stillSendable(RelayRow row) {
                return Pipeline.this.stillSendable(row);
            }

            @Override
            public boolean sessionOpen(RelayRow row) {
                return Pipeline.this.sessionOpen(row);
            }

            @Override
            public void retract(RelayRow row) {
                Pipeline.this.retract(row);
            }

            @Override
            public void send(RelayRow row) {
                Pipeline.this.send(row);
            }
        }, signals::release);
        /** Per aggregate, failures not yet committed: its later rows must not be fetched before they are. */
        private final Map<String, Integer> unrecordedFailures = new HashMap<>();
        private int queuedCount;
        private int inFlightCount;

        /**
         * Collects acknowledgements, records them, fetches when the working set runs low, sends what may be sent,
         * and waits for the broker when there is nothing else to do. Returns true when caught up: nothing in the
         * working set and the last fetch returned less than a batch.
         */
        boolean step() throws InterruptedException {
            if (rescanRequested) {
                rescanRequested = false;
                planner.rescanFromStart();
            }
            collect();
            sendAssigned();
            lifecycle.maintain();
            admitWaiting();
            if (recorder.shouldFlush(inFlightCount)) {
                flush();
            }
            // fetch when the working set runs low, unless recording lags behind (then sending more only grows it)
            if (running && queuedCount + inFlightCount <= batchSize / 2 && known.size() - waitingCount <= 3 * batchSize
                    && (planner.lastFetchFull() || !busy() || wakeUps.tryAcquire() || planner.fullScanOverdue())) {
                fetch();
            }
            if (dispatchDue()) {
                dispatch();
            }
            if (!busy()) {
                flush();
                if (recorder.idle()) {
                    return !planner.lastFetchFull();
                }
            }
            long wait = claims == null ? pollInterval.toNanos() : min(pollInterval, claims.roundInterval()).toNanos();
            long until = Math.min(nextDeadlineNanos(), System.nanoTime() + wait);
            if (sequenced && !ready.isEmpty() && inFlightCount < maxInFlight) {
                until = Math.min(until, lastDispatchNanos + DISPATCH_DELAY_NANOS);
            }
            awaitSignal(until);
            return false;
        }

        /**
         * Reads due pending rows as the {@link FetchPlanner} plans and queues the ones not already in the working set
         * and not held back in memory; returns how many.
         */
        int fetch() {
            int skipAhead = 0;
            while (true) {
                FetchPlanner.Read read = planner.read(skipAhead, known.size(), lifecycle.sendableSegments());
                int added = 0;
                int deferred = 0;
                for (OutboxEntry entry : read.rows()) {
                    String key = entry.aggregateKey();
                    if (known.containsKey(entry.id()) || blockedKeys.contains(key) || waitingKeys.contains(key)) {
                        continue;
                    }
                    if (acknowledgedBefore(key, entry)) {
                        continue;
                    }
                    if (!planner.takes(entry, read.full())) {
                        deferred++;
                        continue;
                    }
                    RelayRow row = new RelayRow(entry, segmentCount);
                    remember(row);
                    queued.computeIfAbsent(key, k -> new ArrayDeque<>()).add(row);
                    queuedCount++;
                    if (!inFlight.containsKey(key) || pipelinePerKey) {
                        ready.add(key);
                    }
                    added++;
                }
                int next = planner.next(read, added, deferred, skipAhead);
                if (next == FetchPlanner.DONE) {
                    return added;
                }
                skipAhead = next; // FULL_SCAN_NOW (0): the continuation could take nothing; else read further
            }
        }

        /**
         * Whether the broker acknowledged this row before and the store did not record it SENT: it is never sent
         * again, and parked once it was read as pending {@value NotRecordedRows#SIGHTINGS} times.
         */
        private boolean acknowledgedBefore(String key, OutboxEntry entry) {
            NotRecordedRows.Sighting sighting = notRecorded.sighted(entry);
            if (sighting == NotRecordedRows.Sighting.PARK) {
                RelayRow row = new RelayRow(entry, segmentCount);
                remember(row);
                fail(key, row, new Attempt(FailureKind.NOT_RECORDED, "The broker acknowledged "
                        + "this row, but recording it SENT changed nothing, and it is still read as pending: "
                        + "it is not sent again. Check the row (and the table's indexes); discard it if it "
                        + "was delivered"));
            }
            return sighting != NotRecordedRows.Sighting.SEND;
        }

        /**
         * With sequence ids every dispatch persists them in one transaction: rows are sent in groups (at least
         * {@value #DISPATCH_GROUP} aggregates ready, nothing in flight, or {@code DISPATCH_DELAY} passed), not one
         * transaction per acknowledgement. Without, at once.
         */
        private boolean dispatchDue() {
            return !sequenced || ready.size() >= DISPATCH_GROUP || inFlightCount == 0
                    || (inFlightCount < maxInFlight && System.nanoTime() - lastDispatchNanos >= DISPATCH_DELAY_NANOS);
        }

        /** Sends the next row of every aggregate that may send, up to {@code maxInFlight} unacknowledged rows. */
        void dispatch() {
            lastDispatchNanos = System.nanoTime();
            List<RelayRow> outgoing = new ArrayList<>();
            Iterator<String> keys = ready.iterator();
            while (keys.hasNext() && inFlightCount < maxInFlight) {
                String key = keys.next();
                keys.remove();
                ArrayDeque<RelayRow> rows = queued.get(key);
                if (rows != null && !rows.isEmpty() && !lifecycle.mayStillSend(rows.peek().segment)) {
                    dropQueued(key); // segment lost, released, or its claim not extended in time: fetched again later
                    continue;
                }
                while (rows != null && !rows.isEmpty() && inFlightCount < maxInFlight && !blockedKeys.contains(key)) {
                    RelayRow row = rows.poll();
                    queuedCount--;
                    if (prepare(key, row)) {
                        if (sequenced) {
                            outgoing.add(row); // sent together once their sequence ids are persisted
                        } else if (sessionOpen(row)) {
                            send(row); // its topic's producer is open (else it waits, or failed)
                        }
                    }
                    if (!pipelinePerKey) {
                        break;
                    }
                }
                if (rows != null && rows.isEmpty()) {
                    queued.remove(key);
                } else if (rows != null && pipelinePerKey && !blockedKeys.contains(key)) {
                    ready.add(key); // stopped by maxInFlight: continue later
                }
            }
            if (!outgoing.isEmpty()) {
                transmit(outgoing);
            }
        }

        /**
         * Readies a row for sending: upcasts it and resolves its topic (a failure there fails the row), and counts it
         * in flight. Returns whether it is to be sent.
         */
        private boolean prepare(String key, RelayRow row) {
            OutboxEntry entry = row.entry;
            if (PARKED_AT_CAPTURE.equals(entry.payload())) {
                fail(key, row, new Attempt(FailureKind.UNREADABLE_PAYLOAD, "The payload could not be serialized "
                        + "at capture: there is nothing to publish; discard the row"));
                return false;
            }
            try {
                row.sent = upcaster.get().upcast(entry);
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
                fail(key, row, new Attempt(FailureKind.UPCAST_FAILED, String.valueOf(e.getMessage())));
                return false;
            }
            Optional<String> topic;
            try {
                topic = topics.of(entry);
            } catch (RuntimeException e) {
                fail(key, row, new Attempt(FailureKind.NO_ROUTE, "Resolving the topic of aggregate type '"
                        + entry.aggregateType() + "' failed: " + e.getMessage()));
                return false;
            }
            if (topic.isEmpty()) {
                fail(key, row, new Attempt(FailureKind.NO_ROUTE, "No topic is configured for aggregate type '"
                        + entry.aggregateType() + "'"));
                return false;
            }
            row.topic = topic.get();
            inFlight.computeIfAbsent(key, k -> new ArrayDeque<>()).add(row);
            inFlightCount++;
            return true;
        }

        /** With sequence ids: prepared rows get their ids, persisted, and are sent once those committed. */
        private void transmit(List<RelayRow> rows) {
            sequencer.add(rows);
        }

        /** Sends the rows whose sequence ids committed (nothing to do without sequence ids). */
        void sendAssigned() {
            sequencer.sendFinished();
        }

        /**
         * Whether a prepared row may still be sent: not done or voided, no earlier row of its aggregate failed (or a
         * send of its segment had an unknown outcome) meanwhile, and its segment may still be sent.
         */
        private boolean stillSendable(RelayRow row) {
            return !row.done && !row.voided && !blockedKeys.contains(row.entry.aggregateKey())
                    && lifecycle.mayStillSend(row.segment);
        }

        /**
         * Whether the producer session of the row's topic and segment is open, starting to open it if needed (never
         * blocking). While it opens, the row waits (in flight, so its aggregate waits too) and is sent once it is open
         * ({@link #admitWaiting}). When it cannot be opened, the row counts as a failed attempt of the transport's kind
         * (an unknown topic parks it; an unreachable broker, or a name another node still holds, is retried), before
         * it got a sequence id; the failure is remembered for the topic and segment until the opening may be tried
         * again, so that other rows of it fail at once instead of each waiting for the broker.
         */
        private boolean sessionOpen(RelayRow row) {
            String session = sessions.key(row.topic, row.segment);
            if (sessions.isOpen(session)) {
                return true;
            }
            List<RelayRow> alreadyWaiting = waitingForSession.get(session);
            if (alreadyWaiting != null) { // behind the rows already waiting for it, in order
                startWaiting(row, alreadyWaiting);
                return false;
            }
            ProducerSessions.Opening opening = sessions.opening(row.topic, row.segment);
            if (opening.failure != null) {
                opening.reported = true;
                leaveInFlight(row);
                fail(row.entry.aggregateKey(), row, opening.failure);
                return false;
            }
            if (!opening.future.isDone()) {
                startWaiting(row, waitingForSession.computeIfAbsent(session, k -> new ArrayList<>()));
                return false;
            }
            if (sequenced) {
                claims.raise(row.segment, opening.future.join().highestStored());
            }
            sessions.opened(session, row.topic, opening.future.join());
            return true;
        }

        private void startWaiting(RelayRow row, List<RelayRow> waiting) {
            waiting.add(row);
            row.waiting = true;
            inFlightCount--; // still in inFlight: its aggregate waits with it
            waitingCount++;
            String key = row.entry.aggregateKey();
            waitingKeys.add(key);
            dropQueued(key); // its later rows are read again once it is sent: they hold no working set meanwhile
        }

        private void stopWaiting(RelayRow row) {
            if (row.waiting) {
                row.waiting = false;
                inFlightCount++;
                waitingCount--;
                waitingKeys.remove(row.entry.aggregateKey());
            }
        }

        /**
         * Sends the rows whose session opened, and fails those whose session could not be opened with that failure
         * (once: the next row asks again after the backoff); the others keep waiting.
         */
        void admitWaiting() {
            if (waitingForSession.isEmpty()) {
                return;
            }
            List<RelayRow> admitted = new ArrayList<>();
            for (Iterator<Map.Entry<String, List<RelayRow>>> it = waitingForSession.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, List<RelayRow>> waiting = it.next();
                ProducerSessions.Opening opening = sessions.settled(waiting.getKey());
                if (opening != null && opening.underWay()) {
                    continue;
                }
                it.remove();
                for (RelayRow row : waiting.getValue()) {
                    stopWaiting(row);
                    if (opening != null && opening.failure != null && lifecycle.mayStillSend(row.segment)) {
                        opening.reported = true;
                        leaveInFlight(row);
                        fail(row.entry.aggregateKey(), row, opening.failure);
                    } else {
                        admitted.add(row); // opened (sent), or its segment stopped meanwhile (retracted)
                    }
                }
            }
            if (!admitted.isEmpty() && sequenced) {
                transmit(admitted);
            } else {
                for (RelayRow row : admitted) {
                    if (sessionOpen(row)) {
                        send(row);
                    }
                }
            }
        }

        /** Rows waiting for a session are not sent after all (the relay stops): they stay pending. */
        private void dropWaiting() {
            waitingForSession.values().forEach(rows -> rows.forEach(row -> {
                stopWaiting(row);
                leaveInFlight(row);
                row.done = true;
                planner.forget(row.entry.aggregateKey());
                forget(row.entry.id());
            }));
            waitingForSession.clear();
            planner.rescanFromStart();
        }

        /** Takes a row out of its aggregate's in-flight rows (if it is there). */
        private void leaveInFlight(RelayRow row) {
            String key = row.entry.aggregateKey();
            ArrayDeque<RelayRow> rows = inFlight.get(key);
            if (rows != null && rows.remove(row)) {
                inFlightCount--;
                if (rows.isEmpty()) {
                    inFlight.remove(key);
                }
            }
        }

        /** A prepared row that is not sent after all: it leaves the working set and is fetched again later. */
        private void retract(RelayRow row) {
            String key = row.entry.aggregateKey();
            leaveInFlight(row);
            row.done = true;
            planner.forget(key);
            planner.rescanFromStart();
            dropQueued(key);
            forget(row.entry.id());
            if (row.sequence != OutboxEntry.NO_SEQUENCE) {
                // its id may be persisted but was never sent: no higher id of the segment may be stored before the
                // segment is resolved (which clears it), or a later resolution would take it for stored
                lifecycle.startResolving(row.segment);
            }
        }

        private void send(RelayRow row) {
            String key = row.entry.aggregateKey();
            CompletableFuture<?> ack;
            try {
                ack = sequenced ? publisher.publish(row.sent, row.topic, row.segment, row.sequence)
                                : publisher.publish(row.sent, row.topic);
            } catch (Throwable e) {
                ack = CompletableFuture.failedFuture(e);
            }
            row.deadlineNanos = System.nanoTime() + ackTimeout.toNanos();
            sendOrder.add(row);
            ack.whenComplete((result, error) -> {
                row.error = error;
                completions.add(row);
                signals.release();
            });
            if (ack.isCompletedExceptionally()) {
                // refused at once: no later row of the aggregate is sent. The error comes from the future itself: the
                // callback above may not have run yet on the thread that completed it. Failed before the transport
                // returned with a cause the transport says never leaves the client: the broker never saw it
                Throwable error = ack.handle((result, e) -> e).join();
                Throwable cause = error instanceof CompletionException && error.getCause() != null
                        ? error.getCause() : error;
                row.notStored = publisher.neverSent(cause);
                complete(row, attemptOf(error instanceof CompletionException && error.getCause() != null
                                                ? error.getCause() : error));
            }
        }

        @Override
        public boolean idle(int segment) {
            return busy[segment] == 0;
        }

        @Override
        public void dropQueuedOf(int segment) {
            for (String key : new ArrayList<>(queued.keySet())) {
                ArrayDeque<RelayRow> rows = queued.get(key);
                if (!rows.isEmpty() && rows.peek().segment == segment) {
                    dropQueued(key);
                }
            }
        }

        private void dropQueued(String key) {
            ArrayDeque<RelayRow> rows = queued.remove(key);
            ready.remove(key);
            planner.forget(key);
            if (rows != null) {
                queuedCount -= rows.size();
                rows.forEach(r -> forget(r.entry.id()));
            }
        }

        @Override
        public void failureSettled(OutboxEntry entry) {
            unrecordedFailures.computeIfPresent(entry.aggregateKey(), (key, count) -> count > 1 ? count - 1 : null);
        }

        private void remember(RelayRow row) {
            if (known.put(row.entry.id(), row.segment) == null) {
                busy[row.segment]++;
            }
        }

        @Override
        public void forget(String id) {
            Integer segment = known.remove(id);
            if (segment != null) {
                busy[segment]--;
            }
        }

        private Attempt attemptOf(Throwable error) {
            return Attempt.of(error, publisher);
        }

        /** Handles the acknowledgements and failures that arrived, and sends that have timed out. */
        void collect() {
            applyRecorded();
            RelayRow row;
            while ((row = completions.poll()) != null) {
                complete(row, attemptOf(row.error));
            }
            long now = System.nanoTime();
            while (!sendOrder.isEmpty() && (sendOrder.peek().done || sendOrder.peek().deadlineNanos <= now)) {
                RelayRow head = sendOrder.poll();
                if (!head.done) {
                    complete(head, new Attempt(FailureKind.TIMEOUT, "Not acknowledged within the relay's ack "
                            + "timeout of " + ackTimeout));
                }
            }
        }

        private void complete(RelayRow row, Attempt failure) {
            if (row.done) {
                return; // timed out before: already handled
            }
            row.done = true;
            String key = row.entry.aggregateKey();
            ArrayDeque<RelayRow> rows = inFlight.get(key);
            if (failure != null && rows != null) {
                boolean after = false;
                for (RelayRow other : rows) { // sent after the failed row: acknowledged or not, they must not count
                    if (after) {
                        other.voided = true;
                    }
                    after |= other == row;
                }
            }
            leaveInFlight(row);
            if (row.voided) {
                forget(row.entry.id()); // sent after a failure of its aggregate: stays pending, fetched again
                return;
            }
            if (failure != null) {
                fail(key, row, failure);
                return;
            }
            recorder.acknowledged(row);
            Instant now = clock.instant();
            transport.acknowledged(now);
            metrics.published(row.sent, now);
            if (!pipelinePerKey && queued.containsKey(key)) {
                ready.add(key);
            }
        }

        /**
         * A row failed: it is recorded with the failure policy's decision and the aggregate's queued rows are dropped,
         * so that none overtakes it (rows of it sent after it were voided by {@link #complete}).
         */
        private void fail(String key, RelayRow row, Attempt attempt) {
            row.done = true;
            if (attempt.kind().isRetryable()) { // the broker or a topic is unavailable (refusals are parked instead)
                transport.failed(attempt.kind(), attempt.error(), clock.instant());
            }
            OutboxEntry entry = row.entry;
            if (attempt.kind() == FailureKind.UNAVAILABLE && row.topic != null) {
                // the connection or the producer itself is gone (closed under the relay, fenced): the next row of its
                // topic opens the session again instead of failing against a producer that no longer sends
                sessions.lost(row.topic, row.segment);
            }
            if (sequenced && row.sequence != OutboxEntry.NO_SEQUENCE) {
                if (attempt.kind().mayHaveBeenStored() && !row.notStored) {
                    lifecycle.startResolving(row.segment); // later sends of this segment wait until the broker says what it has
                } else {
                    // refused, or never sent: later ids of its segment may be stored, so a resolution would take it
                    // for stored; its id is cleared now, or (database trouble) kept known here and cleared with the
                    // failure's recording, and the segment resolved meanwhile
                    Map<String, Long> clear = Map.of(entry.id(), row.sequence);
                    try {
                        writes.write(Set.of(row.segment), () -> {
                            store.clearSequences(clear);
                            return null;
                        });
                    } catch (RuntimeException e) {
                        logger.warn("Outbox relay: clearing the sequence id of refused row {} failed; resolving its "
                                            + "segment instead", entry.id(), e);
                        recorder.clearLater(entry.id(), row.sequence);
                        lifecycle.startResolving(row.segment);
                    }
                }
                entry = entry.withBrokerSequence(row.sequence);
            }
            planner.forget(key);
            recorder.failed(entry, attempt);
            unrecordedFailures.merge(key, 1, Integer::sum);
            blockedKeys.add(key);
            ready.remove(key);
            ArrayDeque<RelayRow> dropped = queued.remove(key);
            if (dropped != null) {
                queuedCount -= dropped.size();
                dropped.forEach(r -> forget(r.entry.id()));
            }
        }

        void flush() {
            recorder.flush();
        }

        private void applyRecorded() {
            recorder.applyFinished();
        }

        /** Records everything acknowledged or failed so far and waits until it has committed. */
        void flushAndWait() throws InterruptedException {
            while (!recorder.idle()) {
                flush();
                awaitSignal(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
                applyRecorded();
            }
            releaseBlockedKeys();
        }

        /**
         * Stops the recorder and sequencer threads (after their current task). Returns whether no transaction
         * persisting sequence ids is still running (waiting up to the ack timeout for it): until then the segments'
         * claims must not be released, or a new owner could resolve a segment before those ids are committed.
         */
        boolean close() {
            recorder.close();
            return sequencer.close(ackTimeout);
        }

        /** Once their failures are recorded, aggregates may be fetched again (the query holds back what must wait). */
        @Override
        public void releaseBlockedKeys() {
            blockedKeys.removeIf(key -> !inFlight.containsKey(key) && !unrecordedFailures.containsKey(key));
        }

        boolean busy() {
            return inFlightCount > 0 || waitingCount > 0 || (queuedCount > 0 && !ready.isEmpty());
        }

        int acknowledgedCount() {
            return recorder.acknowledgedCount();
        }

        int failedCount() {
            return recorder.failedCount();
        }

        long nextDeadlineNanos() {
            RelayRow oldest = sendOrder.peek();
            long deadline = oldest == null ? System.nanoTime() + ackTimeout.toNanos() : oldest.deadlineNanos;
            return sessions.earliestDeadline(waitingForSession.keySet(), deadline);
        }

        void awaitSignal(long deadlineNanos) throws InterruptedException {
            long wait = deadlineNanos - System.nanoTime();
            if (wait > 0 && signals.tryAcquire(wait, TimeUnit.NANOSECONDS)) {
                signals.drainPermits();
            }
        }

        /** Waits (up to the ack timeout) for what is in flight and records it: used when the relay stops. */
        void finish() throws InterruptedException {
            dropWaiting();
            queued.clear();
            ready.clear();
            queuedCount = 0;
            // first what already arrived: its signal may have been taken by the pass that saw the relay stop
            collect();
            sendAssignedWhileStopping();
            while (inFlightCount > 0) {
                awaitSignal(nextDeadlineNanos());
                collect();
                sendAssignedWhileStopping();
            }
            flushAndWait();
        }

        /** Rows being given ids when the relay stops are still sent (and awaited); a failure only retracts them. */
        void sendAssignedWhileStopping() {
            try {
                sendAssigned();
            } catch (RuntimeException e) {
                logger.warn("Outbox relay '{}': persisting broker sequence ids failed while stopping; the rows stay "
                                    + "pending", name, e);
            }
        }

        /**
         * After an error (e.g. the database is unreachable): forget what was queued; acknowledged rows are kept for
         * the next flush, and rows still in flight are awaited as usual.
         */
        void abandon() {
            queued.keySet().forEach(planner::forget); // their rows were dropped: reading ahead must not skip them
            planner.rescanFromStart();
            queued.values().forEach(rows -> rows.forEach(r -> forget(r.entry.id())));
            queued.clear();
            ready.clear();
            queuedCount = 0;
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
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
         * Rows read per fetch (default 500); the relay reads again when fewer than half a batch are queued or in
         * flight.
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
            if (claims != null && claims.segmentCount() != store.segmentCount()) {
                throw new AxonConfigurationException("The segment claims count " + claims.segmentCount()
                                                             + " segments but the outbox store " + store.segmentCount()
                                                             + ": both must use the same pulsar-outbox.segments");
            }
            publisher.sendTimeout().ifPresent(sendTimeout -> {
                if (ackTimeout.compareTo(sendTimeout) <= 0) {
                    throw new AxonConfigurationException(
                            "The relay's ackTimeout (" + ackTimeout + ") must be longer than the publisher's send "
                                    + "timeout (" + sendTimeout + "): otherwise the relay gives up on sends the "
                                    + "transport is still retrying, and sends them again");
                }
            });
        }
    }
}
