package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.FailureKind;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.SchemaSerializationException;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * What a failure of the Pulsar client means for a row: {@link #classify} names what retrying can do, {@link #neverSent}
 * whether the broker can have stored the message, {@link #producerIsGone} whether the producer must be replaced.
 */
final class PulsarFailures {

    private PulsarFailures() {
    }

    /**
     * Pulsar's exceptions by what retrying can do: time-outs and connection trouble (also a producer closed under the
     * relay or fenced) are retried until the broker answers; a full client queue or memory limit until there is room; authorization/authentication failures and lookups
     * answering "not found" (a bundle moving) are retried for a bounded time; a topic that does not exist, a terminated
     * topic, an incompatible schema or a message over the broker's size limit are parked at once.
     */
    static FailureKind classify(Throwable failure) {
        Throwable cause = unwrap(failure);
        if (cause instanceof PulsarClientException.TimeoutException
                // the publisher's own bound on an operation the client may not bound (creating a producer)
                || cause instanceof java.util.concurrent.TimeoutException) {
            return FailureKind.TIMEOUT;
        }
        if (cause instanceof PulsarClientException.ProducerQueueIsFullError
                || cause instanceof PulsarClientException.MemoryBufferIsFullError) {
            return FailureKind.BUSY;
        }
        if (cause instanceof PulsarClientException.ConnectException
                || cause instanceof PulsarClientException.LookupException
                || cause instanceof PulsarClientException.ProducerBusyException
                // closed under the relay, or fenced by another node's producer: the relay opens the session again
                || cause instanceof PulsarClientException.AlreadyClosedException
                || cause instanceof PulsarClientException.ProducerFencedException
                || unreachable(cause)) {
            return FailureKind.UNAVAILABLE;
        }
        if (cause instanceof PulsarClientException.TopicDoesNotExistException) {
            return FailureKind.UNKNOWN_TOPIC;
        }
        if (cause instanceof PulsarClientException.NotFoundException) { // e.g. during a bundle move: bounded retry
            return FailureKind.NOT_FOUND;
        }
        if (cause instanceof PulsarClientException.AuthorizationException
                || cause instanceof PulsarClientException.AuthenticationException) {
            return FailureKind.NOT_AUTHORIZED;
        }
        if (cause instanceof PulsarClientException.NotAllowedException
                || cause instanceof PulsarClientException.TopicTerminatedException
                || cause instanceof PulsarClientException.IncompatibleSchemaException
                || cause instanceof PulsarClientException.InvalidTopicNameException) {
            return FailureKind.REFUSED;
        }
        if (cause instanceof PulsarClientException.InvalidMessageException) { // refused by the client itself
            String message = String.valueOf(cause.getMessage());
            return message.contains("size") || message.contains("exceeds") ? FailureKind.MESSAGE_TOO_LARGE
                                                                              : FailureKind.REFUSED;
        }
        if (cause instanceof SchemaSerializationException) {
            return FailureKind.UNREADABLE_PAYLOAD;
        }
        return FailureKind.TRANSIENT;
    }

    /**
     * Failures the client raises before a message is written to the broker: its own size and message checks, a full
     * queue, a closed producer (or no open session).
     */
    static boolean neverSent(Throwable failure) {
        Throwable cause = unwrap(failure);
        return cause instanceof PulsarClientException.InvalidMessageException
                || cause instanceof PulsarClientException.ProducerQueueIsFullError
                || cause instanceof PulsarClientException.MemoryBufferIsFullError
                || cause instanceof PulsarClientException.AlreadyClosedException;
    }

    /** A producer that was closed, fenced by another one, or whose topic was terminated never sends again. */
    static boolean producerIsGone(Throwable error) {
        Throwable cause = unwrap(error);
        return cause instanceof PulsarClientException.AlreadyClosedException
                || cause instanceof PulsarClientException.ProducerFencedException
                || cause instanceof PulsarClientException.TopicTerminatedException;
    }

    /** The failure without the completion and execution wrappers of futures. */
    static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    /**
     * Whether a failure says the broker (or the lookup service) cannot be reached: a refused or timed-out connection,
     * a host that does not resolve, a lost channel. The client often wraps these in a plain
     * {@link PulsarClientException}, so the whole cause chain is looked at.
     */
    private static boolean unreachable(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof java.net.ConnectException
                    || cause instanceof java.net.UnknownHostException
                    || cause instanceof java.net.NoRouteToHostException
                    || cause instanceof java.net.SocketTimeoutException
                    || cause instanceof java.nio.channels.ClosedChannelException) {
                return true;
            }
        }
        return false;
    }
}
