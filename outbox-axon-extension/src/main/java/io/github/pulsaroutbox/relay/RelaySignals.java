package io.github.pulsaroutbox.relay;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * What the relay's callers ask of its thread, as its pipeline reads it ({@link RelayControl}): a wake-up (new
 * rows were committed) and a rescan from the lowest position (parked rows were released), and whether the relay still
 * runs.
 * <p>
 * Guarantees: asking never blocks; wake-ups do not pile up (at most one is pending, and a wait for work takes them
 * all); a rescan request is taken exactly once.
 */
final class RelaySignals implements RelayControl {

    private final BooleanSupplier running;
    private final Semaphore wakeUps = new Semaphore(0);
    private volatile boolean rescanRequested;

    /** @param running whether the relay still runs */
    RelaySignals(BooleanSupplier running) {
        this.running = running;
    }

    @Override
    public boolean running() {
        return running.getAsBoolean();
    }

    @Override
    public boolean takeRescanRequest() {
        boolean requested = rescanRequested;
        rescanRequested = false;
        return requested;
    }

    @Override
    public boolean takeWakeUp() {
        return wakeUps.tryAcquire();
    }

    /** Asks for a rescan from the lowest position (taken by the next {@link #takeRescanRequest()}). */
    void requestRescan() {
        rescanRequested = true;
    }

    /** Leaves a wake-up for the relay thread, unless one is pending already. */
    void wakeUp() {
        if (wakeUps.availablePermits() == 0) {
            wakeUps.release();
        }
    }

    /** Waits up to {@code timeout} for a wake-up, and takes every pending one. */
    void awaitWork(Duration timeout) throws InterruptedException {
        if (wakeUps.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            wakeUps.drainPermits();
        }
    }
}
