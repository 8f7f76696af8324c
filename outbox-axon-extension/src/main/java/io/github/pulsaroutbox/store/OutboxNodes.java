package io.github.pulsaroutbox.store;

import java.time.Instant;
import java.util.List;

/**
 * The relay nodes of one outbox: each running relay writes a heartbeat with the segments it owns. The live nodes
 * (heartbeat within the claim timeout) decide each node's fair share of segments; ownership itself is claimed in
 * Axon's {@code TokenStore}, never decided here. Every method works in the caller's transaction.
 */
public interface OutboxNodes {

    /** Records that {@code nodeId} is alive at {@code at} and owns {@code segments} (inserted or updated). */
    void heartbeat(String nodeId, Instant at, String segments);

    /** The nodes whose last heartbeat is after {@code since}, by node id. */
    List<Node> liveNodes(Instant since);

    /** Removes a node's heartbeat (it stopped). */
    void leave(String nodeId);

    /** Removes heartbeats older than {@code before} (nodes that died long ago). */
    void forgetNodes(Instant before);

    /**
     * Bounds, for the rest of the caller's transaction, how long its statements wait for a row lock
     * ({@code lockWait}) and how long the database lets the session sit idle inside the transaction ({@code idle})
     * before it ends the session and releases its locks: a node frozen inside a transaction (GC, VM pause, SIGSTOP)
     * then holds up nobody for longer. Does nothing where the database has no such per-transaction settings (the
     * default).
     */
    default void limitWaits(java.time.Duration lockWait, java.time.Duration idle) {
    }

    /**
     * A relay node as it last reported itself.
     *
     * @param nodeId      the node's identifier
     * @param heartbeatAt its last heartbeat
     * @param segments    the segments it owned then, e.g. {@code "0,1,5"}
     */
    record Node(String nodeId, Instant heartbeatAt, String segments) {
    }
}
