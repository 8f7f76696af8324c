package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.common.transaction.TransactionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One run of the relay thread: wires the relay's stages and moves each row through them, on that one thread. A row is
 * read into the working set ({@link RowIntake}, as the {@link FetchPlanner} plans), queued behind its aggregate
 * ({@link AggregateQueues}), handed out when its aggregate may send and its segment is active
 * ({@link SegmentLifecycle}, {@link Dispatcher}), readied ({@link RowPreparation}), given a sequence id
 * ({@link Sequencer}) once its producer session is open ({@link SessionGate}, {@link ProducerSessions}), sent
 * ({@link PendingAcks}), its answer settled ({@link SendOutcomes}) and its outcome recorded ({@link OutcomeRecorder};
 * a failure through {@link RowFailures}). Broker answers, finished assignments, recordings and openings arrive on
 * other threads and only wake this one; everything else happens here. Sending, acknowledging, recording and fetching
 * overlap: while acknowledgements of earlier rows are awaited, acknowledged rows are recorded SENT and the next rows
 * are fetched and sent.
 * <p>
 * Order: rows of an aggregate are queued in fetch (position) order; at most one is unacknowledged at a time,
 * unless the publisher fails every later send of a failed one
 * ({@link OutboxPublisher#failsLaterSendsAfterAFailure()}), when they are pipelined. After a failure, the
 * aggregate's queued rows are dropped and rows of it acknowledged after the failure are not recorded: they stay
 * pending and are fetched again, behind the failed row, once its failure is recorded (and the database query
 * holds them back while it waits or is parked).
 * <p>
 * Fetching alternates full scans and reads ahead by position; see {@link FetchPlanner} for why reading ahead never
 * lets a row overtake an earlier one of its aggregate.
 */
final class RelayPipeline
        implements OutcomeRecorder.WorkingSet, SegmentLifecycle.WorkingSet, Sequencer.Rows, SessionGate.Rows {

    private static final Logger logger = LoggerFactory.getLogger(RelayPipeline.class);

    private final int batchSize;
    private final Duration ackTimeout;
    private final Duration stepWait;
    private final LongSupplier nanoTime;
    private final String name;
    private final boolean sequenced;
    private final RelayThreads threads;
    private final RelayControl control;

    private final Semaphore signals = new Semaphore(0);

    /** The producer sessions per topic (and segment), opened without blocking this thread. */
    private final ProducerSessions sessions;
    /** Plans the reads of pending rows (full scans, continuations, the held-back prefix). */
    private final FetchPlanner planner;
    /** The working set per aggregate: queued, in flight, ready, blocked. */
    private final AggregateQueues queues;
    /** Records the outcomes (SENT, failures) on a thread of its own. */
    private final OutcomeRecorder recorder;
    /** Which owned segments may send, are resolving or closing (claims mode). */
    private final SegmentLifecycle lifecycle;
    /** With sequence ids: gives prepared rows their ids, persisted before they are sent. */
    private final Sequencer sequencer;
    /** Upcasts rows and resolves their topics. */
    private final RowPreparation preparation;
    /** Lets rows through once their producer session is open. */
    private final SessionGate gate;
    /** Sends awaiting the broker's answer. */
    private final PendingAcks acks;
    /** What happens to a row that failed. */
    private final RowFailures failures;
    /** Reads due pending rows into the working set. */
    private final RowIntake intake;
    /** Hands out the rows to send, readied; with sequence ids in groups. */
    private final Dispatcher dispatcher;
    /** Sends rows and settles their answers. */
    private final SendOutcomes outcomes;

    RelayPipeline(RelaySetup setup, RelayControl control) {
        OutboxPublisher publisher = setup.publisher();
        this.batchSize = setup.batchSize();
        this.ackTimeout = setup.ackTimeout();
        this.stepWait = setup.stepWait();
        Clock clock = setup.clock();
        this.nanoTime = setup.nanoTime();
        this.name = setup.name();
        this.sequenced = setup.sequenced();
        TransportWatch transport = setup.transport();
        this.threads = setup.threads();
        this.control = control;
        OutboxStore store = setup.store();
        TransactionManager transactionManager = setup.transactionManager();
        SegmentClaims claims = setup.claims();
        FencedWrites writes = setup.writes();
        RowTopics topics = setup.topics();
        int segmentCount = setup.segmentCount();
        this.sessions = new ProducerSessions(publisher, sequenced, ackTimeout, setup.pollInterval(), transport,
                                             nanoTime, signals::release);
        this.planner = new FetchPlanner(store, transactionManager, clock, nanoTime, batchSize, setup.pollInterval(),
                                        name);
        this.queues = new AggregateQueues(segmentCount, publisher.failsLaterSendsAfterAFailure(), planner::forget);
        this.recorder = new OutcomeRecorder(store, transactionManager, writes, claims, setup.failurePolicy(), clock,
                                            nanoTime, segmentCount, batchSize, name, setup.metrics(), transport,
                                            setup.notRecorded(), threads, this, signals::release);
        this.lifecycle = new SegmentLifecycle(
                claims, segmentCount, setup.allSegments(), sessions,
                new SegmentResolver(store, transactionManager, writes, claims, sessions, topics,
                                    recorder::neverStored, clock, nanoTime, ackTimeout),
                planner, setup.pollInterval(), nanoTime, this);
        this.sequencer = new Sequencer(store, writes, claims, sessions, name, threads, this, signals::release);
        this.preparation = new RowPreparation(setup.upcaster(), topics);
        this.gate = new SessionGate(sessions, queues, claims, sequenced, this, batchSize);
        this.acks = new PendingAcks(publisher, sequenced, ackTimeout, nanoTime, signals::release);
        this.failures = new RowFailures(store, writes, sequenced, clock, transport, sessions, lifecycle, recorder,
                                        planner, queues);
        this.intake = new RowIntake(planner, queues, lifecycle::sendableSegments, setup.notRecorded(),
                                    segmentCount, failures, (segment, entry) -> lifecycle.heldBack(segment, entry)
                                            || waitsCrowded(topics, segment, entry));
        this.outcomes = new SendOutcomes(publisher, acks, queues, failures::fail, recorder::acknowledged, ackTimeout,
                                         clock, nanoTime, transport, setup.metrics());
        this.dispatcher = new Dispatcher(queues, preparation, failures::fail, lifecycle::mayStillSend, sequencer::add,
                                         row -> {
                                             if (sessionOpen(row)) {
                                                 send(row); // its topic's producer is open (else it waits, or failed)
                                             }
                                         }, sequenced, setup.maxInFlight(), nanoTime);
    }

    /** Wakes the relay thread (new rows, or an acknowledgement may be awaited no longer). */
    void signal() {
        signals.release();
    }

    /**
     * Collects acknowledgements, records them, fetches when the working set runs low, sends what may be sent,
     * and waits for the broker when there is nothing else to do. Returns true when caught up: nothing in the
     * working set and the last fetch returned less than a batch.
     */
    boolean step() throws InterruptedException {
        if (control.takeRescanRequest()) {
            planner.rescanFromStart();
        }
        collect();
        sendAssigned();
        lifecycle.maintain();
        admitWaiting();
        if (recorder.shouldFlush(queues.inFlightCount())) {
            flush();
        }
        // fetch when at most a batch is queued or in flight (that batch awaits the broker while the read runs, up to
        // two after it), unless recording lags behind (then sending more only grows it)
        if (control.running() && queues.queuedCount() + queues.inFlightCount() <= batchSize
                && queues.size() - queues.waitingCount() <= 3 * batchSize
                && (planner.lastFetchFull() || !busy() || control.takeWakeUp() || planner.fullScanOverdue())) {
            fetch();
        }
        if (dispatcher.due()) {
            dispatch();
        }
        if (!busy()) {
            flush();
            if (recorder.idle()) {
                return !planner.lastFetchFull();
            }
        }
        awaitSignal(dispatcher.waitUntil(Math.min(nextDeadlineNanos(), nanoTime.getAsLong() + stepWait.toNanos())));
        return false;
    }

    /** Whether the row's session has as many rows waiting for it to open as allowed: the row stays in the database. */
    private boolean waitsCrowded(RowTopics topics, int segment, io.github.pulsaroutbox.OutboxEntry entry) {
        return gate.anyWaiting() && topics.known(entry).map(topic -> gate.crowded(topic, segment)).orElse(false);
    }

    /** Reads due pending rows into the working set ({@link RowIntake}); returns how many were queued. */
    int fetch() {
        return intake.fetch();
    }

    /** Hands out the next row of every aggregate that may send ({@link Dispatcher}). */
    void dispatch() {
        dispatcher.dispatch();
    }

    /** Sends the rows whose sequence ids committed (nothing to do without sequence ids). */
    void sendAssigned() {
        sequencer.sendFinished();
    }

    /**
     * Whether a prepared row may still be sent: not done or voided, no earlier row of its aggregate failed (or a
     * send of its segment had an unknown outcome) meanwhile, and its segment may still be sent.
     */
    @Override
    public boolean stillSendable(RelayRow row) {
        return !row.done && !row.voided && !queues.blocked(row.entry.aggregateKey())
                && lifecycle.mayStillSend(row.segment);
    }

    /** Whether the row's producer session is open (else it waits for it, or failed): {@link SessionGate#open}. */
    @Override
    public boolean sessionOpen(RelayRow row) {
        return gate.open(row);
    }

    @Override
    public void fail(RelayRow row, Attempt attempt) {
        failures.fail(row, attempt);
    }

    @Override
    public boolean mayStillSend(int segment) {
        return lifecycle.mayStillSend(segment);
    }

    /**
     * Sends the rows whose session opened, and fails those whose session could not be opened with that failure
     * (once: the next row asks again after the backoff); the others keep waiting.
     */
    void admitWaiting() {
        List<RelayRow> admitted = gate.admit();
        if (sequenced) {
            if (!admitted.isEmpty()) {
                sequencer.add(admitted);
            }
            return;
        }
        for (RelayRow row : admitted) {
            if (sessionOpen(row)) {
                send(row);
            }
        }
    }

    /** Rows waiting for a session are not sent after all (the relay stops): they stay pending. */
    private void dropWaiting() {
        for (RelayRow row : gate.dropAll()) {
            row.done = true;
            planner.forget(row.entry.aggregateKey());
            forget(row.entry.id());
        }
        planner.rescanFromStart();
    }

    /** A prepared row that is not sent after all: it leaves the working set and is fetched again later. */
    @Override
    public void retract(RelayRow row) {
        String key = row.entry.aggregateKey();
        queues.leaveInFlight(row);
        row.done = true;
        planner.forget(key);
        planner.rescanFromStart();
        queues.dropQueued(key);
        queues.forget(row.entry.id());
        if (row.sequence != OutboxEntry.NO_SEQUENCE) {
            // its id may be persisted but was never sent: no higher id of the segment may be stored before the
            // segment is resolved (which clears it), or a later resolution would take it for stored
            lifecycle.startResolving(row.segment);
        }
    }

    @Override
    public void send(RelayRow row) {
        outcomes.send(row); // refused at once: settled now, no later row of the aggregate is sent
    }

    @Override
    public boolean idle(int segment) {
        return queues.idle(segment);
    }

    @Override
    public void dropQueuedOf(int segment) {
        queues.dropQueuedOf(segment);
    }

    @Override
    public void failureSettled(OutboxEntry entry) {
        queues.failureSettled(entry);
    }

    @Override
    public void forget(String id) {
        queues.forget(id);
    }

    /** Applies finished recordings, then settles the answers that arrived and the sends that timed out. */
    void collect() {
        recorder.applyFinished();
        outcomes.collect();
    }

    void flush() {
        recorder.flush();
    }

    /** Records everything acknowledged or failed so far and waits until it has committed. */
    void flushAndWait() throws InterruptedException {
        while (!recorder.idle()) {
            flush();
            awaitSignal(nanoTime.getAsLong() + TimeUnit.SECONDS.toNanos(1));
            recorder.applyFinished();
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
        queues.releaseBlockedKeys();
    }

    boolean busy() {
        return queues.busy();
    }

    int acknowledgedCount() {
        return recorder.acknowledgedCount();
    }

    int failedCount() {
        return recorder.failedCount();
    }

    long nextDeadlineNanos() {
        return gate.earliestDeadline(acks.nextDeadline());
    }

    void awaitSignal(long deadlineNanos) throws InterruptedException {
        threads.await(signals, deadlineNanos - nanoTime.getAsLong());
    }

    /** Waits (up to the ack timeout) for what is in flight and records it: used when the relay stops. */
    void finish() throws InterruptedException {
        dropWaiting();
        queues.dropAllQueued();
        // first what already arrived: its signal may have been taken by the pass that saw the relay stop
        collect();
        sendAssignedWhileStopping();
        while (queues.inFlightCount() > 0) {
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
        queues.dropAllQueued();
        planner.rescanFromStart();
    }
}
