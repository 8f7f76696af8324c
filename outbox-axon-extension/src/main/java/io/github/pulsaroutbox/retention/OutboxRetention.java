package io.github.pulsaroutbox.retention;

import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.transaction.TransactionManager;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static org.axonframework.common.BuilderUtils.assertNonNull;
import static org.axonframework.common.BuilderUtils.assertThat;

/**
 * Removes SENT rows older than the retention period, deleting them or moving them to the archive table
 * ({@code <table>_archive}), in bounded batches by position, each batch its own short transaction: never a long lock
 * or a scan of the whole table on the hot path. Parked (FAILED), discarded and pending rows are never removed.
 * Runs every {@code interval} on a thread of its own once started.
 * <p>
 * While it removes a backlog, retention yields to capture and the relay: after each batch it pauses so that its
 * batches take at most the {@code dutyCycle} share of its time (by default a fifth: a batch that took 40 ms is followed
 * by a pause of 160 ms), so the database work it adds is bounded however many rows are due.
 */
public final class OutboxRetention {

    private static final Logger logger = LoggerFactory.getLogger(OutboxRetention.class);
    /** The default share of its time retention spends in batches while it removes a backlog. */
    public static final double DEFAULT_DUTY_CYCLE = 0.2;
    /** The smallest duty cycle: a pause of at most 99 times the batch before it. */
    public static final double MIN_DUTY_CYCLE = 0.01;

    private final OutboxMaintenance maintenance;
    private final TransactionManager transactionManager;
    private final Duration retainSent;
    private final boolean archive;
    private final int batchSize;
    private final Duration interval;
    private final double dutyCycle;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final Pause pause;
    private final OutboxMetrics metrics;
    private ScheduledExecutorService scheduler;

    private OutboxRetention(Builder builder) {
        builder.validate();
        this.maintenance = builder.maintenance;
        this.transactionManager = builder.transactionManager;
        this.retainSent = builder.retainSent;
        this.archive = builder.archive;
        this.batchSize = builder.batchSize;
        this.interval = builder.interval;
        this.dutyCycle = builder.dutyCycle;
        this.clock = builder.clock;
        this.nanoTime = builder.nanoTime;
        this.pause = builder.pause;
        this.metrics = builder.metrics;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Runs the job every {@code interval}, the first time after one interval. */
    public synchronized void start() {
        if (scheduler != null) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "outbox-retention");
            thread.setDaemon(true);
            return thread;
        });
        scheduler.scheduleWithFixedDelay(this::runSafely, interval.toMillis(), interval.toMillis(),
                                         TimeUnit.MILLISECONDS);
    }

    /** Stops the schedule; a batch in progress completes, no further batch starts. */
    public synchronized void shutdown() {
        if (scheduler != null) {
            scheduler.shutdownNow(); // interrupts a long purge between batches
            try {
                scheduler.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            scheduler = null;
        }
    }

    /**
     * Removes every SENT row older than the retention period, batch by batch, pausing after each batch as the duty
     * cycle asks. Stops early, after the batch in progress, when the calling thread is interrupted (its interrupt
     * status stays set).
     *
     * @return the number of rows removed from the outbox table
     */
    public long runOnce() {
        Instant cutoff = clock.instant().minus(retainSent);
        long total = 0;
        int removed;
        do {
            long start = nanoTime.getAsLong();
            removed = transactionManager.fetchInTransaction(() -> maintenance.purgeSent(cutoff, batchSize, archive));
            total += removed;
            if (removed > 0) {
                metrics.purged(removed, archive);
                if (!yieldAfter(nanoTime.getAsLong() - start)) {
                    break;
                }
            }
        } while (removed > 0 && !Thread.currentThread().isInterrupted());
        if (total > 0) {
            logger.info("Outbox retention {} {} sent row(s) older than {}", archive ? "archived" : "deleted", total,
                        cutoff);
        }
        return total;
    }

    /** Pauses after a batch that took {@code batchNanos}; false when interrupted meanwhile. */
    private boolean yieldAfter(long batchNanos) {
        long pauseNanos = (long) (Math.max(0, batchNanos) * (1 - dutyCycle) / dutyCycle);
        if (pauseNanos <= 0) {
            return true;
        }
        try {
            pause.pause(pauseNanos);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Waits between batches; {@link TimeUnit#sleep} outside tests. */
    @FunctionalInterface
    interface Pause {
        void pause(long nanos) throws InterruptedException;
    }

    private void runSafely() {
        try {
            runOnce();
        } catch (RuntimeException e) {
            logger.warn("Outbox retention failed; trying again in {}", interval, e);
        }
    }

    /**
     * Builds an {@link OutboxRetention}. Required: {@link #maintenance}, {@link #transactionManager}. Defaults: keep
     * sent rows 7 days, delete (not archive), batches of 1000, every 10 minutes, a duty cycle of 0.2.
     */
    public static final class Builder {
        private OutboxMaintenance maintenance;
        private TransactionManager transactionManager;
        private Duration retainSent = Duration.ofDays(7);
        private boolean archive = false;
        private int batchSize = 1000;
        private Duration interval = Duration.ofMinutes(10);
        private double dutyCycle = DEFAULT_DUTY_CYCLE;
        private Clock clock = Clock.systemUTC();
        private LongSupplier nanoTime = System::nanoTime;
        private Pause pause = TimeUnit.NANOSECONDS::sleep;
        private OutboxMetrics metrics = OutboxMetrics.NOOP;

        private Builder() {
        }

        public Builder maintenance(OutboxMaintenance maintenance) {
            assertNonNull(maintenance, "OutboxMaintenance may not be null");
            this.maintenance = maintenance;
            return this;
        }

        public Builder transactionManager(TransactionManager transactionManager) {
            assertNonNull(transactionManager, "TransactionManager may not be null");
            this.transactionManager = transactionManager;
            return this;
        }

        /** How long SENT rows are kept after they were sent. */
        public Builder retainSent(Duration retainSent) {
            assertThat(retainSent, d -> d != null && !d.isNegative(), "retainSent may not be negative");
            this.retainSent = retainSent;
            return this;
        }

        /** Move rows to {@code <table>_archive} instead of deleting them. */
        public Builder archive(boolean archive) {
            this.archive = archive;
            return this;
        }

        /** Rows per batch (one transaction each). */
        public Builder batchSize(int batchSize) {
            assertThat(batchSize, n -> n > 0, "batchSize must be positive");
            this.batchSize = batchSize;
            return this;
        }

        public Builder interval(Duration interval) {
            assertThat(interval, d -> d != null && !d.isNegative() && !d.isZero(), "interval must be positive");
            this.interval = interval;
            return this;
        }

        /**
         * The share of its time retention spends in batches while it removes a backlog, from
         * {@value OutboxRetention#MIN_DUTY_CYCLE} to 1: after a batch that took {@code t} it pauses
         * {@code t × (1 − dutyCycle) / dutyCycle}. 1 runs batches back to back (fastest, and the most database work
         * beside capture and the relay); the default {@value OutboxRetention#DEFAULT_DUTY_CYCLE} removes a backlog at
         * about a fifth of that speed, so rows must not become due faster than about
         * {@code batchSize × dutyCycle / t} per second for long, or the table grows.
         */
        public Builder dutyCycle(double dutyCycle) {
            assertThat(dutyCycle, d -> d >= MIN_DUTY_CYCLE && d <= 1,
                       "dutyCycle must be at least " + MIN_DUTY_CYCLE + " and at most 1");
            this.dutyCycle = dutyCycle;
            return this;
        }

        /** The time source for measuring batches and the pause between them; for tests. */
        Builder timing(LongSupplier nanoTime, Pause pause) {
            this.nanoTime = nanoTime;
            this.pause = pause;
            return this;
        }

        public Builder clock(Clock clock) {
            assertNonNull(clock, "Clock may not be null");
            this.clock = clock;
            return this;
        }

        public Builder metrics(OutboxMetrics metrics) {
            assertNonNull(metrics, "OutboxMetrics may not be null");
            this.metrics = metrics;
            return this;
        }

        public OutboxRetention build() {
            return new OutboxRetention(this);
        }

        void validate() throws AxonConfigurationException {
            assertNonNull(maintenance, "OutboxMaintenance is a hard requirement and should be provided");
            assertNonNull(transactionManager, "TransactionManager is a hard requirement and should be provided");
        }
    }
}
