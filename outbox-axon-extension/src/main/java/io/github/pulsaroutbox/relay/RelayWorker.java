package io.github.pulsaroutbox.relay;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The relay's thread (a daemon named after the relay): started by {@link #start}, stopped by {@link #stop}.
 * <p>
 * Guarantees: a new thread is never started while the previous one is alive ({@link #checkStopped}); {@link #stop}
 * waits for the thread to finish its pass for {@code finishWait}, then interrupts it and waits up to 10 s more, and
 * forgets the thread only once it ended, so that a thread that did not stop keeps a new one from starting.
 */
final class RelayWorker {

    /** Logs as part of {@link OutboxRelay}. */
    private static final Logger logger = LoggerFactory.getLogger(OutboxRelay.class);

    private final String name;
    private final Duration finishWait;
    private volatile Thread thread;

    /**
     * @param name       the relay's name, also its thread's
     * @param finishWait how long {@link #stop} waits for the thread before interrupting it
     */
    RelayWorker(String name, Duration finishWait) {
        this.name = name;
        this.finishWait = finishWait;
    }

    /** @throws IllegalStateException when the previous thread is still alive (stopping) */
    void checkStopped() {
        Thread previous = thread;
        if (previous != null && previous.isAlive()) {
            throw new IllegalStateException("Outbox relay '" + name + "' is still stopping; not starting a second one");
        }
    }

    /** Starts a new thread running {@code body}. */
    void start(Runnable body) {
        Thread started = new Thread(body, name);
        started.setDaemon(true);
        thread = started;
        started.start();
    }

    /** Whether {@code candidate} is the relay's current thread. */
    boolean is(Thread candidate) {
        return thread == candidate;
    }

    /** Whether the current thread is alive. */
    boolean isAlive() {
        Thread current = thread;
        return current != null && current.isAlive();
    }

    /**
     * Waits for the thread to end (it was told to stop), interrupting it if it does not end in time. Returns once it
     * has ended, or reports that it did not.
     */
    void stop() {
        Thread current = thread;
        if (current == null) {
            return;
        }
        try {
            current.join(finishWait.toMillis());
            if (current.isAlive()) {
                logger.warn("Outbox relay '{}' did not finish its pass in time; interrupting it", name);
                current.interrupt();
                current.join(10_000);
            }
        } catch (InterruptedException e) {
            current.interrupt();
            Thread.currentThread().interrupt();
        }
        if (current.isAlive()) {
            logger.error("Outbox relay '{}' thread did not stop", name);
        } else {
            thread = null;
            logger.info("Outbox relay '{}' stopped", name);
        }
    }
}
