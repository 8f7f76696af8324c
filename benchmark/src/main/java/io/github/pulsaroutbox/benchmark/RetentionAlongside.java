package io.github.pulsaroutbox.benchmark;

import io.github.pulsaroutbox.retention.OutboxRetention;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The outbox's retention job (its defaults: batches of 1,000, duty cycle 0.2; {@code --retention-duty-cycle} changes
 * the latter), run again as soon as it finishes, on a thread of its own while a drain runs: it removes the seeded
 * history from the lowest position up (each run's cutoff is its start), polling every 100 ms once nothing is left.
 * {@link #close()} stops it after the batch in progress; a failed batch, or a thread still running a minute later,
 * fails the round.
 */
final class RetentionAlongside implements AutoCloseable {

    private final OutboxRetention retention;
    private final AtomicLong removed = new AtomicLong();
    private final Thread thread;
    private volatile boolean stopped;
    private volatile Throwable failure;

    private RetentionAlongside(BenchDatabase db, double dutyCycle) {
        this.retention = OutboxRetention.builder()
                                        .maintenance(db.store())
                                        .transactionManager(db.transactionManager())
                                        .retainSent(Duration.ZERO)
                                        .dutyCycle(dutyCycle)
                                        .build();
        this.thread = new Thread(this::loop, "bench-retention");
    }

    /** Starts removing at once. */
    static RetentionAlongside start(BenchDatabase db, Options options) {
        RetentionAlongside alongside = new RetentionAlongside(
                db, Double.parseDouble(options.get("retention-duty-cycle",
                                                   String.valueOf(OutboxRetention.DEFAULT_DUTY_CYCLE))));
        alongside.thread.start();
        return alongside;
    }

    /** The rows removed so far. */
    long removed() {
        return removed.get();
    }

    private void loop() {
        try {
            while (!stopped) {
                long batch = retention.runOnce(); // until nothing is left to remove, or interrupted
                removed.addAndGet(batch);
                if (batch == 0) {
                    LockSupport.parkNanos(Duration.ofMillis(100).toNanos()); // until the relay recorded more
                }
            }
        } catch (Throwable e) {
            if (!stopped) {
                failure = e;
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        stopped = true;
        thread.interrupt(); // runOnce stops after its batch in progress
        thread.join(Duration.ofMinutes(1).toMillis());
        if (thread.isAlive()) {
            throw new IllegalStateException("Retention did not stop within a minute of the drain's end");
        }
        if (failure != null) {
            throw new IllegalStateException("Retention failed during the drain", failure);
        }
    }
}
