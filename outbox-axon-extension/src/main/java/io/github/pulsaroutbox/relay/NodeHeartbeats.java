package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.store.OutboxNodes;
import org.axonframework.common.transaction.TransactionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * This node's heartbeat in the node table ({@link OutboxNodes}), and how many nodes are alive (a heartbeat within the
 * claim timeout), for fair shares of the segments. Heartbeats older than {@value #FORGET_AFTER_TIMEOUTS} claim
 * timeouts (nodes killed without leaving) are removed once a minute, so the table lists the nodes that run. Without a
 * node table every node counts only itself.
 */
final class NodeHeartbeats {

    private static final Logger logger = LoggerFactory.getLogger(NodeHeartbeats.class);
    /** Heartbeats older than this many claim timeouts are removed from the node table. */
    private static final long FORGET_AFTER_TIMEOUTS = 30;
    /** How often a node removes such heartbeats. */
    private static final Duration FORGET_INTERVAL = Duration.ofMinutes(1);

    private final OutboxNodes nodes;
    private final TransactionManager transactionManager;
    private final String nodeId;
    private final Duration claimTimeout;
    private volatile int liveNodes = 1;
    private Instant nextForgetting = Instant.MIN;

    NodeHeartbeats(OutboxNodes nodes, TransactionManager transactionManager, String nodeId, Duration claimTimeout) {
        this.nodes = nodes;
        this.transactionManager = transactionManager;
        this.nodeId = nodeId;
        this.claimTimeout = claimTimeout;
    }

    /** How many nodes were alive at the last beat (this one included; 1 without a node table). */
    int liveNodes() {
        return liveNodes;
    }

    /** Writes this node's heartbeat with the segments it owns, and counts the live nodes (in one transaction). */
    void beat(Instant now, Set<Integer> owned, Duration lockWait, Duration idleLimit) {
        if (nodes == null) {
            return;
        }
        String mine = owned.stream().map(String::valueOf).collect(Collectors.joining(","));
        boolean forget = now.isAfter(nextForgetting);
        WaitLimits limits = WaitLimits.of(() -> nodes.limitWaits(lockWait, idleLimit), nodes::restoreWaits);
        List<OutboxNodes.Node> alive = limits.fetchInTransaction(transactionManager, () -> {
            nodes.heartbeat(nodeId, now, mine);
            if (forget) { // nodes killed without leaving: their rows would be listed as nodes for ever
                nodes.forgetNodes(now.minus(FORGET_AFTER_TIMEOUTS * claimTimeout.toMillis(), ChronoUnit.MILLIS));
            }
            return nodes.liveNodes(now.minus(claimTimeout));
        });
        if (forget) {
            nextForgetting = now.plus(FORGET_INTERVAL);
        }
        liveNodes = Math.max(1, alive.size());
    }

    /** Removes this node's heartbeat (it stopped). */
    void leave() {
        if (nodes == null) {
            return;
        }
        try {
            transactionManager.executeInTransaction(() -> nodes.leave(nodeId));
        } catch (RuntimeException e) {
            logger.debug("Removing the heartbeat of outbox relay node {} failed", nodeId, e);
        }
    }

    /** Bounds the waits of the current transaction (where the node table's database supports it). */
    void limitWaits(Duration lockWait, Duration idleLimit) {
        if (nodes != null) {
            nodes.limitWaits(lockWait, idleLimit);
        }
    }

    /** Gives the current transaction's connection back what {@link #limitWaits} changed. */
    void restoreWaits() {
        if (nodes != null) {
            nodes.restoreWaits();
        }
    }
}
