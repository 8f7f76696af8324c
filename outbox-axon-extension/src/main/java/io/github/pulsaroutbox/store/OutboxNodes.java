package io.github.pulsaroutbox.store;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

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
     * then holds up nobody for longer. Where the database's settings belong to the session, not the transaction
     * (MariaDB, MySQL), it keeps the session's own values for {@link #restoreWaits}, which the caller runs last in the
     * same transaction; outside a transaction it changes nothing. Does nothing where the database has no such settings
     * (the default).
     */
    default void limitWaits(java.time.Duration lockWait, java.time.Duration idle) {
    }

    /**
     * Gives the session of the caller's transaction back the values {@link #limitWaits} replaced, where they are the
     * session's (MariaDB, MySQL: a pooled connection then serves the application with its own lock wait and idle
     * limits); the relay runs it last in each transaction it bounded, also when the transaction's work failed. Does
     * nothing where the settings ended with the transaction anyway (PostgreSQL) or where there are none (the default).
     */
    default void restoreWaits() {
    }

    /**
     * Extends, in one round trip of the caller's transaction, the claims {@code owner} holds on {@code segments} of
     * {@code processorName} in the token table {@code table} (one single-row update per segment, in ascending segment
     * order), setting their timestamp to {@code timestamp} (in the token store's format); returns how many claims it
     * extended (fewer than the distinct {@code segments} when one is not {@code owner}'s), or -1 where this store
     * cannot (the default: the relay then extends them one by one through the token store).
     */
    default int extendClaims(TokenTable table, String processorName, String owner, Collection<Integer> segments,
                             String timestamp) {
        return -1;
    }

    /**
     * Confirms, in one round trip of the caller's transaction, the claims {@code owner} holds on {@code segments} of
     * {@code processorName} in the token table {@code table}, locking their rows shared (in ascending segment order)
     * until the transaction ends: a node taking one of them over (which updates the row) waits for that end, while
     * other writes confirming the same claims do not wait for each other. Returns how many of the claims are
     * {@code owner}'s (fewer than the distinct {@code segments} when one is not; a segment with more than one row is
     * not one claim and does not count), read under the lock, so the answer is final; or -1 where this store or its
     * database cannot lock rows shared (the default: the relay then extends the claims instead).
     */
    default int holdClaims(TokenTable table, String processorName, String owner, Collection<Integer> segments) {
        return -1;
    }

    /**
     * Sets, in the caller's transaction, the timestamp of the claim of {@code segment} of {@code processorName} in
     * {@code table}, whoever holds it (locking its row); returns the rows updated (0 where the table holds no such
     * token or this store cannot: the default). Used only inside a transaction that is rolled back unless the token
     * store itself then wrote that row.
     *
     * @throws RuntimeException when the table or its columns do not exist
     */
    default int markClaim(TokenTable table, String processorName, int segment, String timestamp) {
        return 0;
    }

    /**
     * The owner and timestamp of the claim of {@code segment} of {@code processorName} in the token table
     * {@code table}, read in the caller's transaction; empty where the table holds no such token or this store cannot
     * read it (the default).
     *
     * @throws RuntimeException when the table or its columns do not exist
     */
    default Optional<Claim> claimOf(TokenTable table, String processorName, int segment) {
        return Optional.empty();
    }

    /**
     * A segment's claim as a token table holds it.
     *
     * @param owner     the node holding it (null: nobody)
     * @param timestamp when it was last claimed or extended, in the token store's format
     */
    record Claim(String owner, String timestamp) {
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
