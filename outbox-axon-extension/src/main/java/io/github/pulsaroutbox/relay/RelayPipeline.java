package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.common.transaction.TransactionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One run of the relay thread: wires the relay's stages and moves each row through them, on that one thread. A row is
 * read into the working set ({@link RowIntake}, as the {@link FetchPlanner} plans), queued behind its aggregate
 * ({@link AggregateQueues}), handed out when its aggregate may send and its segment is active
 * ({@link SegmentLifecycle}), readied ({@link RowPreparation}), given a sequence id ({@link Sequencer}) once its
 * producer session is open ({@link SessionGate}, {@link ProducerSessions}), sent ({@link PendingAcks}), and its
 * outcome recorded ({@link OutcomeRecorder}; a failure through {@link RowFailures}). Broker answers, finished
 * assignments, recordings and openings arrive on other threads and only wake this one; everything else happens here.
 * Sending, acknowledging, recording and fetching overlap: while acknowledgements of earlier rows are awaited,
 * acknowledged rows are recorded SENT and the next rows are fetched and sent.
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

    /** What the pipeline is told by the relay that runs it. */
    interface Control {

        /** Whether the relay is still running (else no more rows are fetched). */
        boolean running();

        /** Whether a rescan from the lowest position was asked for since the last call. */
        boolean takeRescanRequest();

        /** Whether new rows were signalled since the last call. */
        boolean takeWakeUp();
    }

    private static final Logger logger = LoggerFactory.getLogger(RelayPipeline.class);
    /** With sequence ids: rows sent together once this many aggregates are ready (see {@code dispatchDue}). */
    private static final int DISPATCH_GROUP = 64;
    /** With sequence ids: the longest a ready row waits for others to be sent with (one transaction for all). */
    private static final long DISPATCH_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private final OutboxPublisher publisher;
    private final int batchSize;
    private final int maxInFlight;
    private final Duration ackTimeout;
    private final Duration stepWait;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final String name;
    private final OutboxMetrics metrics;
    private final boolean sequenced;
    private final TransportWatch transport;
    private final RelayThreads threads;
    private final Control control;

    private final Semaphore signals = new Semaphore(0);
    private long lastDispatchNanos;

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

    RelayPipeline(RelaySetup setup, Control control) {
        this.publisher = setup.publisher();
        this.batchSize = setup.batchSize();
        this.maxInFlight = setup.maxInFlight();
        this.ackTimeout = setup.ackTimeout();
        this.stepWait = setup.stepWait();
        this.clock = setup.clock();
        this.nanoTime = setup.nanoTime();
        this.name = setup.name();
        this.metrics = setup.metrics();
        this.sequenced = setup.sequenced();
        this.transport = setup.transport();
        this.threads = setup.threads();
        this.control = control;
        this.lastDispatchNanos = nanoTime.getAsLong();
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
                                            nanoTime, segmentCount, batchSize, name, metrics, transport,
                                            setup.notRecorded(), threads, this, signals::release);
        this.lifecycle = new SegmentLifecycle(
                claims, segmentCount, setup.allSegments(), sessions,
                new SegmentResolver(store, transactionManager, writes, claims, sessions, topics,
                                    recorder::neverStored, clock, nanoTime, ackTimeout),
                planner, setup.pollInterval(), nanoTime, this);
        this.sequencer = new Sequencer(store, writes, claims, sessions, name, threads, this, signals::release);
        this.preparation = new RowPreparation(setup.upcaster(), topics);
        this.gate = new SessionGate(sessions, queues, claims, sequenced, this);
        this.acks = new PendingAcks(publisher, sequenced, ackTimeout, nanoTime, signals::release);
        this.failures = new RowFailures(store, writes, sequenced, clock, transport, sessions, lifecycle, recorder,
                                        planner, queues);
        this.intake = new RowIntake(planner, queues, lifecycle::sendableSegments, setup.notRecorded(),
                                    segmentCount, failures);
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
        // fetch when the working set runs low, unless recording lags behind (then sending more only grows it)
        if (control.running() && queues.queuedCount() + queues.inFlightCount() <= batchSize / 2
                && queues.size() - queues.waitingCount() <= 3 * batchSize
                && (planner.lastFetchFull() || !busy() || control.takeWakeUp() || planner.fullScanOverdue())) {
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
        long until = Math.min(nextDeadlineNanos(), nanoTime.getAsLong() + stepWait.toNanos());
        if (sequenced && queues.readyCount() > 0 && queues.inFlightCount() < maxInFlight) {
            until = Math.min(until, lastDispatchNanos + DISPATCH_DELAY_NANOS);
        }
        awaitSignal(until);
        return false;
    }

    /** Reads due pending rows into the working set ({@link RowIntake}); returns how many were queued. */
    int fetch() {
        return intake.fetch();
    }

    /**
     * With sequence ids every dispatch persists them in one transaction: rows are sent in groups (at least
     * {@value #DISPATCH_GROUP} aggregates ready, nothing in flight, or {@code DISPATCH_DELAY} passed), not one
     * transaction per acknowledgement. Without, at once.
     */
    private boolean dispatchDue() {
        int inFlight = queues.inFlightCount();
        return !sequenced || queues.readyCount() >= DISPATCH_GROUP || inFlight == 0
                || (inFlight < maxInFlight && nanoTime.getAsLong() - lastDispatchNanos >= DISPATCH_DELAY_NANOS);
    }

    /** Sends the next row of every aggregate that may send, up to {@code maxInFlight} unacknowledged rows. */
    void dispatch() {
        lastDispatchNanos = nanoTime.getAsLong();
        List<RelayRow> outgoing = new ArrayList<>();
        queues.dispatch(maxInFlight, lifecycle::mayStillSend, (key, row) -> {
            if (prepare(key, row)) {
                if (sequenced) {
                    outgoing.add(row); // sent together once their sequence ids are persisted
                } else if (sessionOpen(row)) {
                    send(row); // its topic's producer is open (else it waits, or failed)
                }
            }
        });
        if (!outgoing.isEmpty()) {
            sequencer.add(outgoing);
        }
    }

    /**
     * Readies a row for sending: upcasts it and resolves its topic (a failure there fails the row), and counts it
     * in flight. Returns whether it is to be sent.
     */
    private boolean prepare(String key, RelayRow row) {
        Attempt failure = preparation.prepare(row);
        if (failure != null) {
            failures.fail(row, failure);
            return false;
        }
        queues.enterInFlight(key, row);
        return true;
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
        Attempt refused = acks.send(row);
        if (refused != null) {
            complete(row, refused); // refused at once: no later row of the aggregate is sent
        }
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

    /** Handles the acknowledgements and failures that arrived, and sends that have timed out. */
    void collect() {
        recorder.applyFinished();
        RelayRow row;
        while ((row = acks.nextArrived()) != null) {
            complete(row, Attempt.of(row.error, publisher));
        }
        long now = nanoTime.getAsLong();
        while ((row = acks.nextTimedOut(now)) != null) {
            complete(row, new Attempt(FailureKind.TIMEOUT, "Not acknowledged within the relay's ack timeout of "
                    + ackTimeout));
        }
    }

    private void complete(RelayRow row, Attempt failure) {
        if (row.done) {
            return; // timed out before: already handled
        }
        row.done = true;
        String key = row.entry.aggregateKey();
        if (failure != null) {
            queues.voidLaterThan(row); // sent after the failed row: acknowledged or not, they must not count
        }
        queues.leaveInFlight(row);
        if (row.voided) {
            forget(row.entry.id()); // sent after a failure of its aggregate: stays pending, fetched again
            return;
        }
        if (failure != null) {
            failures.fail(row, failure);
            return;
        }
        recorder.acknowledged(row);
        Instant now = clock.instant();
        transport.acknowledged(now);
        metrics.published(row.sent, now);
        queues.acknowledged(key);
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
