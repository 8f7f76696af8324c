package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The transport the {@link OutboxRelay} publishes through (Pulsar in this extension).
 * <p>
 * Contract: {@link #publish(OutboxEntry, String)} starts an asynchronous send and returns at once; the future
 * completes normally only once the broker has acknowledged (persisted) the message, and exceptionally otherwise.
 * Entries handed over for the same destination are sent in call order, so the broker stores them in that order
 * unless an earlier one fails.
 */
public interface OutboxPublisher extends AutoCloseable {

    /**
     * Starts publishing {@code entry} to {@code destination}.
     *
     * @return a future completing when the broker acknowledged, or exceptionally with the reason it did not
     */
    CompletableFuture<?> publish(OutboxEntry entry, String destination);

    /**
     * Starts publishing {@code entry} to {@code destination} through the producer of {@code segment}, with the broker
     * sequence id {@code sequenceId} (used by the broker to drop re-sent copies). Called only by a relay that owns the
     * segment, after {@link #openSession(String, int)} for the destination and segment, with sequence ids increasing
     * in call order per (destination, segment). The default ignores segment and sequence id.
     */
    default CompletableFuture<?> publish(OutboxEntry entry, String destination, int segment, long sequenceId) {
        return publish(entry, destination);
    }

    /**
     * Readies sending to {@code destination} without blocking (e.g. creates its producer); the relay sends a row only
     * once this completed, so that a destination whose lookup hangs holds up only its own rows, and fails the rows
     * waiting for it when it fails. Default: ready at once.
     */
    default CompletableFuture<Void> prepare(String destination) {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Whether this transport publishes with broker sequence ids per segment ({@link #openSession},
     * {@link #publish(OutboxEntry, String, int, long)}); default {@code false}.
     */
    default boolean supportsSequenceIds() {
        return false;
    }

    /**
     * Starts a new session for {@code destination} and {@code segment}: closes its producers if open, opens them under
     * the segment's stable name (one per partition of a partitioned destination) and returns what the broker has
     * stored under that name. Nothing sent in an earlier session can be stored once the returned future completed.
     * Never blocks the caller (the relay's thread): a destination whose lookup hangs holds up only its own rows. The
     * future fails while another process holds the name.
     */
    default CompletableFuture<Session> openSession(String destination, int segment) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("This publisher has no sessions"));
    }

    /** What the broker had stored under a segment's producer name when a session opened. */
    interface Session {

        /**
         * The highest sequence id stored for messages with this key (per partition the key is routed to), {@code -1}
         * when none, or when the broker does not deduplicate.
         */
        long lastStored(String key);

        /** The highest sequence id stored under the name on any partition: later ids must be above it. */
        long highestStored();

        /**
         * The partition this session's producers send messages with {@code key} to: {@code 0} for a destination
         * without partitions (the default).
         */
        default int partitionOf(String key) {
            return 0;
        }

        /**
         * The highest sequence id stored under the name in {@code partition}; {@code -1} when none, or when the
         * destination has no such partition now. The default is for a destination without partitions: partition
         * {@code 0} holds {@link #highestStored()}.
         */
        default long lastStoredIn(int partition) {
            return partition == 0 ? highestStored() : -1;
        }

        /** A session under whose name nothing is stored: every id is {@code -1}. */
        Session NOTHING_STORED = new Session() {
            @Override
            public long lastStored(String key) {
                return -1;
            }

            @Override
            public long highestStored() {
                return -1;
            }
        };
    }

    /**
     * A publisher like this one whose segment sessions ({@link #openSession}) use names of their own, derived from
     * {@code stream}, so that two streams of sequence ids (e.g. the tailing processor's and the outbox relay's, or
     * two tailing processors) never share the broker's deduplication state. Default: this publisher.
     */
    default OutboxPublisher forStream(String stream) {
        return this;
    }

    /** Closes every producer of {@code segment} (its ownership was lost or released). */
    default void closeSegment(int segment) {
    }

    /**
     * Whether a send that failed at once (before {@link #publish} returned) with this failure certainly never reached
     * the broker, e.g. refused by the client's own checks. Default {@code false}: the relay then assumes the broker may
     * have stored it and asks before sending again.
     */
    default boolean neverSent(Throwable failure) {
        return false;
    }

    /**
     * The kind of a failure this publisher reported, so that the failure policy can tell passing faults from
     * failures that retrying cannot fix. By default everything is {@link FailureKind#TRANSIENT}.
     */
    default FailureKind classify(Throwable failure) {
        return FailureKind.TRANSIENT;
    }

    /**
     * Whether, when a send fails after {@link #publish} returned, every later send to the same destination fails too
     * (the broker never stores a later message of a failed one). Then the relay pipelines the rows of an aggregate;
     * otherwise it keeps at most one unacknowledged send per aggregate, so that order survives any failure. Default
     * {@code false}: the safe choice for an unknown transport.
     */
    default boolean failsLaterSendsAfterAFailure() {
        return false;
    }

    /**
     * The longest the transport itself waits for an acknowledgement before failing a send, if it has such a limit
     * (empty: none, e.g. a Pulsar send timeout of 0). The relay's own ack timeout must be longer, so that the relay
     * never gives up on (and re-sends) a message the transport is still trying to deliver.
     */
    default Optional<Duration> sendTimeout() {
        return Optional.empty();
    }

    /**
     * How many sends a producer of the transport queues before a send blocks the caller (Pulsar's
     * {@code maxPendingMessages}); the relay's {@code maxInFlight} must not exceed it, so that the relay thread never
     * blocks on a full queue. Default ({@link Integer#MAX_VALUE}), and any value of 0 or less: no such limit.
     */
    default int maxPendingSends() {
        return Integer.MAX_VALUE;
    }

    /** Releases the transport's resources (producers); called when the relay shuts down. */
    @Override
    default void close() {
    }
}
