package io.github.pulsaroutbox.relay;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The relay thread's work on its pipeline: {@link #run} steps it while the relay runs, waits for work when it caught
 * up, backs off after a failed step, and finishes it when the relay stops; {@link #end} then closes it and hands the
 * segments back.
 * <p>
 * Guarantees: a failed step never ends the loop: the pipeline abandons its queued rows and the loop waits, from the
 * poll interval doubling up to {@link #maxErrorBackoff()}, which with segment claims is no longer than a claim round's
 * interval, so that database hiccups never let the claims lapse. With claims, the segments' producers are closed before
 * the claims are released (no producer may hold the names when another node takes over), and the claims are released
 * only when no transaction persisting sequence ids is still running; otherwise they are left to expire.
 */
final class RelayLoop {

    /** Logs as part of {@link OutboxRelay}. */
    private static final Logger logger = LoggerFactory.getLogger(OutboxRelay.class);

    private final OutboxPublisher publisher;
    /** {@code null} without segment claims. */
    private final SegmentClaims claims;
    /** {@code null} without segment claims. */
    private final ClaimKeeper claimKeeper;
    private final RelaySignals signals;
    private final Duration pollInterval;
    /** How long a step that caught up waits for work. */
    private final Duration stepWait;
    private final int segmentCount;
    private final String name;

    RelayLoop(OutboxPublisher publisher, SegmentClaims claims, ClaimKeeper claimKeeper, RelaySignals signals,
              Duration pollInterval, Duration stepWait, int segmentCount, String name) {
        this.publisher = publisher;
        this.claims = claims;
        this.claimKeeper = claimKeeper;
        this.signals = signals;
        this.pollInterval = pollInterval;
        this.stepWait = stepWait;
        this.segmentCount = segmentCount;
        this.name = name;
    }

    /**
     * Steps the pipeline while {@code keepRunning}, then finishes it (its acknowledgements awaited and recorded).
     * Returns when it finished, was interrupted, or an unexpected error stopped it (logged).
     */
    void run(RelayPipeline pipeline, BooleanSupplier keepRunning) {
        Duration errorBackoff = min(pollInterval, maxErrorBackoff());
        try {
            while (keepRunning.getAsBoolean()) {
                if (claimKeeper != null) {
                    claimKeeper.progressed();
                }
                try {
                    boolean caughtUp = pipeline.step();
                    errorBackoff = min(pollInterval, maxErrorBackoff());
                    if (caughtUp) {
                        // nothing in flight and the last fetch found no more: wait for a commit or the poll interval
                        signals.awaitWork(stepWait);
                    }
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    logger.warn("Outbox relay pass failed; retrying in {}", errorBackoff, e);
                    pipeline.abandon();
                    signals.awaitWork(errorBackoff);
                    errorBackoff = min(errorBackoff.multipliedBy(2), maxErrorBackoff());
                }
            }
            pipeline.finish();
        } catch (InterruptedException e) {
            logger.debug("Outbox relay '{}' interrupted", name);
        } catch (Throwable t) {
            logger.error("Outbox relay '{}' stopped by an unexpected error; pending rows wait for a restart", name, t);
        }
    }

    /**
     * Closes the pipeline, stops extending the claims, and with claims closes every segment's producers and releases
     * the claims if no transaction persisting sequence ids is still running (else they expire).
     */
    void end(RelayPipeline pipeline) {
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
    }

    /**
     * The longest wait after a failed pass: 30 s, but with segment claims no longer than a claim round's interval, so
     * that a few database hiccups never keep this node from extending its claims until they lapse.
     */
    Duration maxErrorBackoff() {
        Duration longest = Duration.ofSeconds(30);
        return claims == null ? longest : min(longest, claims.roundInterval());
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
