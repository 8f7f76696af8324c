package io.github.pulsaroutbox.relay;

import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * This node's claim work for {@link SegmentClaims}: rounds every {@linkplain ClaimTiming#roundInterval() round
 * interval} that extend the owned claims, write the heartbeat and claim available segments up to the fair share
 * ({@code ceil(segments / live nodes)}); keeping the claims extended between rounds; giving up the segments above the
 * fair share and releasing them once drained.
 * <p>
 * Guarantees: a claim's local validity is only set from a moment before its extension or claim started, so it never
 * outlasts the token store's claim; a segment whose claim could not be extended is found lost by the next round and
 * forgotten (with its sequence ids) at once; only rounds gain or give up segments ({@link #keep} only extends). All
 * methods but {@link #keep} are called from the relay thread only.
 */
final class ClaimRounds {

    /** Logs as part of {@link SegmentClaims}. */
    private static final Logger logger = LoggerFactory.getLogger(SegmentClaims.class);

    private final ClaimTokens tokens;
    private final OwnedClaims owned;
    private final SequenceReservations sequences;
    private final NodeHeartbeats nodes;
    private final ClaimTiming timing;
    private final int segmentCount;
    private final String nodeId;
    private final Clock clock;
    private final LongSupplier nanoTime;
    /** When the next round is due (on {@code nanoTime}). */
    private long nextRoundNanos;

    ClaimRounds(ClaimTokens tokens, OwnedClaims owned, SequenceReservations sequences, NodeHeartbeats nodes,
                ClaimTiming timing, int segmentCount, String nodeId, Clock clock, LongSupplier nanoTime) {
        this.tokens = tokens;
        this.owned = owned;
        this.sequences = sequences;
        this.nodes = nodes;
        this.timing = timing;
        this.segmentCount = segmentCount;
        this.nodeId = nodeId;
        this.clock = clock;
        this.nanoTime = nanoTime;
    }

    /** Whether a round is due. */
    boolean due() {
        return nanoTime.getAsLong() - nextRoundNanos >= 0;
    }

    /**
     * Extends the owned claims, writes the heartbeat, and claims available segments (in random order) up to the fair
     * share; publishes the owned segments.
     */
    SegmentClaims.Changes round() {
        long started = nanoTime.getAsLong();
        nextRoundNanos = started + timing.roundInterval().toNanos();
        Set<Integer> lost = new TreeSet<>();
        if (!owned.isEmpty()) {
            lost.addAll(tokens.extend(owned.segments()).keySet());
            owned.validUntil(started + timing.validityNanos());
            lost.forEach(this::forget);
        }
        nodes.beat(clock.instant(), owned.segments(), timing.lockWait(), timing.idleInTransactionLimit());
        int liveNodes = nodes.liveNodes();
        int share = share();
        Set<Integer> gained = new TreeSet<>();
        if (owned.size() < share) {
            List<Integer> candidates = new ArrayList<>();
            for (Integer segment : tokens.available()) {
                if (!owned.owns(segment)) {
                    candidates.add(segment);
                }
            }
            Collections.shuffle(candidates);
            for (Integer segment : candidates) {
                if (owned.size() >= share) {
                    break;
                }
                long claimedAt = nanoTime.getAsLong();
                try {
                    long reserved = tokens.claim(segment);
                    sequences.start(segment, reserved);
                    owned.add(segment, claimedAt + timing.validityNanos());
                    gained.add(segment);
                } catch (UnableToClaimTokenException e) {
                    logger.trace("Outbox segment {} is claimed by another node", segment);
                }
            }
        }
        if (!gained.isEmpty() || !lost.isEmpty()) {
            logger.info("Outbox relay node {} owns segments {} of {} ({} live node(s)); gained {}, lost {}",
                        nodeId, owned.segments(), segmentCount, liveNodes, gained, lost);
        }
        owned.publish();
        return new SegmentClaims.Changes(gained, lost);
    }

    /** The owned segments above the fair share, to be drained and released (highest first; marked releasing). */
    Set<Integer> surplus() {
        return owned.surplus(share());
    }

    /**
     * Extends the owned claims between rounds (from the claim-keeping thread); a claim that cannot be extended is left
     * for the next round to find lost. Does nothing before the tokens are initialized.
     */
    void keep() {
        if (!tokens.initialized() || owned.isEmpty()) {
            return;
        }
        long started = nanoTime.getAsLong();
        List<Integer> kept = new ArrayList<>(owned.segments());
        Map<Integer, UnableToClaimTokenException> notExtended = tokens.extend(kept);
        notExtended.forEach((segment, e) -> logger.trace(
                "Outbox segment {}: claim not extended ({}); the next round finds it lost", segment, e.getMessage()));
        kept.removeAll(notExtended.keySet());
        owned.extend(kept, started + timing.validityNanos());
    }

    /** Releases an owned segment's claim (a failure is logged: the claim then expires); publishes the owned segments. */
    void release(int segment) {
        if (releaseQuietly(segment)) {
            logger.info("Outbox relay node {} released segment {} (owns {})", nodeId, segment, owned.segments());
        }
        owned.publish();
    }

    /** Releases every claim (logged in one line) and removes this node's heartbeat. */
    void releaseAll() {
        List<Integer> released = new ArrayList<>();
        for (Integer segment : new ArrayList<>(owned.segments())) {
            if (releaseQuietly(segment)) {
                released.add(segment);
            }
        }
        owned.publish();
        if (!released.isEmpty()) {
            logger.info("Outbox relay node {} released segments {}", nodeId, released);
        }
        nodes.leave();
    }

    /** Whether the segment was owned and its claim released in the token store (a failure is logged). */
    private boolean releaseQuietly(int segment) {
        if (!forget(segment)) {
            return false;
        }
        try {
            tokens.release(segment);
            return true;
        } catch (RuntimeException e) {
            logger.warn("Releasing outbox segment {} failed; its claim expires instead", segment, e);
            return false;
        }
    }

    /** This node's fair share of the segments, given the live nodes of the last round. */
    private int share() {
        int liveNodes = nodes.liveNodes();
        return (segmentCount + liveNodes - 1) / liveNodes;
    }

    private boolean forget(int segment) {
        sequences.forget(segment);
        return owned.remove(segment);
    }
}
