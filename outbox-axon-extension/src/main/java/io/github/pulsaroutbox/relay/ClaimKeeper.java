package io.github.pulsaroutbox.relay;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Extends a relay's segment claims on a thread of its own ({@code <relay>-claims}), every claim round interval,
 * between the relay thread's own claim rounds, for as long as the relay thread makes progress: it must have gone round
 * its loop ({@link #progressed()}) within the claim timeout. A slow statement, a burst of work or the error back-off
 * on the relay thread therefore never lets a claim lapse, while a relay thread that hangs does (another node takes
 * its segments over).
 */
final class ClaimKeeper {

    private static final Logger logger = LoggerFactory.getLogger(ClaimKeeper.class);

    private final SegmentClaims claims;
    private final String relayName;
    private final LongSupplier nanoTime;
    /** When the relay thread last went round its loop. */
    private volatile long lastStepNanos;
    private ScheduledExecutorService keeper;

    ClaimKeeper(SegmentClaims claims, String relayName, LongSupplier nanoTime) {
        this.claims = claims;
        this.relayName = relayName;
        this.nanoTime = nanoTime;
        this.lastStepNanos = nanoTime.getAsLong();
    }

    /** The relay thread went round its loop: the claims may be extended for the next claim timeout. */
    void progressed() {
        lastStepNanos = nanoTime.getAsLong();
    }

    /** Starts extending the claims (counting the relay thread as having progressed now). */
    synchronized void start() {
        progressed();
        if (keeper != null) {
            return;
        }
        keeper = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, relayName + "-claims");
            thread.setDaemon(true);
            return thread;
        });
        long interval = claims.roundInterval().toNanos();
        keeper.scheduleWithFixedDelay(this::keepIfProgressing, interval, interval, TimeUnit.NANOSECONDS);
    }

    /**
     * Extends the claims ({@link SegmentClaims#keep}) if the relay thread progressed within the claim timeout;
     * returns whether it tried. A failure is logged: the next round tries again.
     */
    boolean keepIfProgressing() {
        if (nanoTime.getAsLong() - lastStepNanos >= claims.claimTimeout().toNanos()) {
            return false;
        }
        try {
            claims.keep();
        } catch (RuntimeException e) {
            logger.debug("Outbox relay '{}': extending the segment claims failed; the next round tries again",
                         relayName, e);
        }
        return true;
    }

    /** Stops extending, and waits (up to 5 s) for an extension in progress: none runs after this returns. */
    synchronized void stop() {
        ScheduledExecutorService running = keeper;
        if (running == null) {
            return;
        }
        running.shutdownNow();
        try {
            running.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        keeper = null;
    }
}
