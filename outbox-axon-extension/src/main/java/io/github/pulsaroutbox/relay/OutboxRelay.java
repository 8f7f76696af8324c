package io.github.pulsaroutbox.relay;

import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.common.transaction.TransactionManager;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.OutboxStore;
import io.github.pulsaroutbox.store.OutboxStore.Failure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 *     sequence) order, all to the same topic and key. After a failure of a row, no later row of the same aggregate
 *     is sent in that pass, and none acknowledged after it is marked SENT, so they are re-sent after it; while a row
 *     waits for its retry or is parked, later rows of its aggregate wait too, and other aggregates flow on. Rows of
 *     one aggregate are pipelined only when the publisher guarantees that a failed send fails every later send on
 *     the same topic ({@link OutboxPublisher#failsLaterSendsAfterAFailure()}); otherwise at most one row per
 *     aggregate is unacknowledged at a time.</li>
 *     <li><b>No round trip per row</b>: sends are asynchronous with at most {@code maxInFlight} unacknowledged;
 *     status updates are one batch per pass.</li>
 *     <li><b>Current schema</b>: each row passes the {@link EntryUpcaster} first; a row that cannot be upcast is
 *     parked ({@link FailureKind#UPCAST_FAILED}) and its aggregate waits, the rest of the stream continues.</li>
 *     <li><b>Low latency</b>: {@link #wakeUp()} (called after a capturing unit of work commits) starts a pass at
 *     once; polling every {@code pollInterval} is the fallback for rows written by other nodes.</li>
 * </ul>
 * One relay per database is assumed in this version.
 */
public final class OutboxRelay {

    private static final Logger logger = LoggerFactory.getLogger(OutboxRelay.class);
    /** The payload of a row whose payload could not be serialized at capture. */
    private static final String PARKED_AT_CAPTURE = "null";

    private final OutboxStore store;
    private final OutboxPublisher publisher;
    private final TopicResolver topicResolver;
    private final Supplier<CapturedAggregates> capturedAggregates;
    private final TransactionManager transactionManager;
    private final int batchSize;
    private final Semaphore inFlight;
    private final int maxInFlight;
    private final Duration pollInterval;
    private final Duration ackTimeout;
    private final Clock clock;
    private final String name;
    private final FailurePolicy failurePolicy;
    private final OutboxMetrics metrics;
    private final Supplier<EntryUpcaster> upcaster;

    private final Semaphore wakeUps = new Semaphore(0);
    private final Map<String, Optional<String>> topicCache = new ConcurrentHashMap<>();
    private volatile boolean running;
    private volatile Thread worker;

    private OutboxRelay(Builder builder) {
        builder.validate();
        this.store = builder.store;
        this.publisher = builder.publisher;
        this.topicResolver = builder.topicResolver;
        this.capturedAggregates = builder.capturedAggregates;
        this.transactionManager = builder.transactionManager;
        this.batchSize = builder.batchSize;
        this.maxInFlight = builder.maxInFlight;
        this.inFlight = new Semaphore(builder.maxInFlight);
        this.pollInterval = builder.pollInterval;
        this.ackTimeout = builder.ackTimeout;
        this.clock = builder.clock;
        this.name = builder.name;
        this.failurePolicy = builder.failurePolicy;
        this.metrics = builder.metrics;
        this.upcaster = builder.upcaster;
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
        running = true;
        topicCache.clear();
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

    /** Asks for a pass now, e.g. because rows were just committed. Cheap; never blocks. */
    public void wakeUp() {
        if (wakeUps.availablePermits() == 0) {
            wakeUps.release();
        }
    }

    private void run() {
        Thread self = Thread.currentThread();
        Duration errorBackoff = pollInterval;
        try {
            while (running && worker == self) {
                try {
                    PassResult result = relayPass();
                    errorBackoff = pollInterval;
                    if (result.deferred() == 0 && (result.fetched() < batchSize || result.sent() == 0)) {
                        // caught up, or nothing could be sent: wait for a commit signal or the poll interval
                        awaitWork(pollInterval);
                    }
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    logger.warn("Outbox relay pass failed; retrying in {}", errorBackoff, e);
                    awaitWork(errorBackoff);
                    errorBackoff = min(errorBackoff.multipliedBy(2), Duration.ofSeconds(30));
                }
            }
        } catch (InterruptedException e) {
            logger.debug("Outbox relay '{}' interrupted", name);
        } catch (Throwable t) {
            logger.error("Outbox relay '{}' stopped by an unexpected error; pending rows wait for a restart", name, t);
        } finally {
            if (worker == self) {
                running = false;
            }
        }
    }

    private void awaitWork(Duration timeout) throws InterruptedException {
        if (wakeUps.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            wakeUps.drainPermits();
        }
    }

    /** One pass: fetch a batch of due rows, publish them, record the outcome. Visible for tests. */
    PassResult relayPass() throws InterruptedException {
        Instant now = clock.instant();
        List<OutboxEntry> batch = transactionManager.fetchInTransaction(() -> store.fetchPending(batchSize, now));
        if (batch.isEmpty()) {
            return new PassResult(0, 0, 0);
        }
        boolean pipelinePerKey = publisher.failsLaterSendsAfterAFailure();
        List<InFlight> sends = new ArrayList<>(batch.size());
        Set<String> failedKeys = new HashSet<>();
        Set<String> sentKeys = new HashSet<>();
        Map<OutboxEntry, Attempt> failed = new LinkedHashMap<>();
        int deferred = 0;
        for (OutboxEntry entry : batch) {
            String key = entry.aggregateKey();
            if (failedKeys.contains(key)) {
                continue; // an earlier row of this aggregate failed in this pass: keep order, wait for it
            }
            if (!pipelinePerKey && !sentKeys.add(key)) {
                deferred++; // one unacknowledged send per aggregate: the next pass sends the next row
                continue;
            }
            if (PARKED_AT_CAPTURE.equals(entry.payload())) {
                failedKeys.add(key);
                failed.put(entry, new Attempt(FailureKind.UNREADABLE_PAYLOAD, "The payload could not be serialized "
                        + "at capture: there is nothing to publish; discard the row"));
                continue;
            }
            OutboxEntry toSend;
            try {
                toSend = upcaster.get().upcast(entry);
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
                failedKeys.add(key);
                failed.put(entry, new Attempt(FailureKind.UPCAST_FAILED, String.valueOf(e.getMessage())));
                continue;
            }
            Optional<String> topic;
            try {
                topic = topicFor(entry.aggregateType());
            } catch (RuntimeException e) {
                failedKeys.add(key);
                failed.put(entry, new Attempt(FailureKind.NO_ROUTE, "Resolving the topic of aggregate type '"
                        + entry.aggregateType() + "' failed: " + e.getMessage()));
                continue;
            }
            if (topic.isEmpty()) {
                failedKeys.add(key);
                failed.put(entry, new Attempt(FailureKind.NO_ROUTE, "No topic is configured for aggregate type '"
                        + entry.aggregateType() + "'"));
                continue;
            }
            inFlight.acquire();
            CompletableFuture<?> ack;
            try {
                ack = publisher.publish(toSend, topic.get());
            } catch (Throwable e) {
                ack = CompletableFuture.failedFuture(e);
            }
            ack.whenComplete((r, e) -> inFlight.release());
            if (ack.isCompletedExceptionally()) {
                failedKeys.add(key);
            }
            sends.add(new InFlight(entry, toSend, ack));
        }

        long deadline = System.nanoTime() + ackTimeout.toNanos();
        List<String> acknowledged = new ArrayList<>(sends.size());
        Set<String> brokenKeys = new HashSet<>();
        for (InFlight send : sends) {
            String key = send.entry().aggregateKey();
            Attempt failure = awaitAck(send.ack(), deadline);
            if (failure != null) {
                brokenKeys.add(key);
                failed.put(send.entry(), failure);
            } else if (!brokenKeys.contains(key)) {
                acknowledged.add(send.entry().id());
                metrics.published(send.sent(), clock.instant());
            }
            // acknowledged after an earlier failure of the same aggregate: left pending, re-sent after it
        }
        Instant failedAt = clock.instant();
        List<Failure> failures = new ArrayList<>(failed.size());
        failed.forEach((entry, attempt) -> {
            FailurePolicy.Decision decision = failurePolicy.decide(entry, attempt.kind(), entry.attempts() + 1);
            failures.add(new Failure(entry.id(), attempt.kind(), attempt.error(), decision.outcome(),
                                     failedAt.plus(decision.delay()), failedAt));
            metrics.failed(attempt.kind(), decision.outcome());
        });
        if (!failures.isEmpty()) {
            Failure first = failures.get(0);
            logger.warn("Outbox relay: {} row(s) not acknowledged in this pass; first: row {} {} ({}) -> {}",
                        failures.size(), first.id(), first.kind(), first.error(), first.outcome());
        }
        transactionManager.executeInTransaction(() -> {
            store.markSent(acknowledged, clock.instant());
            store.recordFailures(failures);
        });
        return new PassResult(batch.size(), acknowledged.size(), deferred);
    }

    private Attempt awaitAck(CompletableFuture<?> ack, long deadlineNanos) throws InterruptedException {
        try {
            ack.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            return null;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return new Attempt(publisher.classify(cause), cause.getClass().getSimpleName() + ": " + cause.getMessage());
        } catch (TimeoutException e) {
            return new Attempt(FailureKind.TIMEOUT, "Not acknowledged within the relay's ack timeout of "
                    + ackTimeout);
        }
    }

    private Optional<String> topicFor(String aggregateType) {
        Optional<String> cached = topicCache.get(aggregateType);
        if (cached != null) {
            return cached;
        }
        Optional<String> topic = topicResolver.resolve(aggregateType,
                                                       capturedAggregates.get().annotatedTopic(aggregateType));
        if (topic.isPresent()) {
            topicCache.put(aggregateType, topic); // only found topics are cached: a missing one is asked again
        }
        return topic;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private record InFlight(OutboxEntry entry, OutboxEntry sent, CompletableFuture<?> ack) {
    }

    private record Attempt(FailureKind kind, String error) {
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

        private Builder() {
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

        /** Rows fetched per pass (default 500). */
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

        /** How often to look for rows without a wake-up signal (default 1 s). */
        public Builder pollInterval(Duration pollInterval) {
            assertThat(pollInterval, d -> d != null && !d.isNegative() && !d.isZero(),
                       "pollInterval must be positive");
            this.pollInterval = pollInterval;
            return this;
        }

        /** How long a pass waits for the broker's acknowledgements (default 60 s). */
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
        }
    }
}
