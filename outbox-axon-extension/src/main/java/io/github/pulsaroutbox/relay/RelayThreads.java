package io.github.pulsaroutbox.relay;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * How the relay's stages get worker threads and wait for signals: by default daemon threads named after the relay
 * (so thread dumps say whose they are) and real waits; a simulation replaces both to run every stage on one thread in
 * an order it chooses.
 */
interface RelayThreads {

    /** Daemon threads and real waits. */
    RelayThreads DAEMONS = new RelayThreads() {
    };

    /** A pool of {@code count} threads named {@code relayName + suffix}. */
    default ExecutorService pool(int count, String relayName, String suffix) {
        return daemons(count, relayName, suffix);
    }

    /**
     * Waits until {@code signals} has a permit (taking all of them) or {@code nanos} passed; returns at once when
     * {@code nanos <= 0}.
     */
    default void await(Semaphore signals, long nanos) throws InterruptedException {
        if (nanos > 0 && signals.tryAcquire(nanos, TimeUnit.NANOSECONDS)) {
            signals.drainPermits();
        }
    }

    /** A pool of {@code count} daemon threads named {@code relayName + suffix}. */
    static ExecutorService daemons(int count, String relayName, String suffix) {
        return Executors.newFixedThreadPool(count, task -> {
            Thread thread = new Thread(task, relayName + suffix);
            thread.setDaemon(true);
            return thread;
        });
    }
}
