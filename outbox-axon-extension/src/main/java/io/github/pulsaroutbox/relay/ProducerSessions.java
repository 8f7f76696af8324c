package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The relay's producer sessions: per topic and segment with sequence ids (one producer name per segment), per topic
 * without (one shared producer). Owns the sessions open since their segment was last resolved and the openings in
 * progress or failed.
 * <p>
 * Guarantees: opening never blocks the relay thread (a topic whose lookup hangs holds up only its own rows); an
 * opening that fails, or gets no answer within the ack timeout, is kept with its failure until it may be tried again,
 * backing off from {@code pollInterval} up to 30 s (a refusal, such as an unknown topic, is asked again by the next
 * row at once: an operator may have fixed it); a failure that may pass is reported to the {@link TransportWatch}.
 * {@link #closeSegment} forgets a segment's sessions and closes its producers, so that a new owner may open them.
 */
final class ProducerSessions {

    private static final Logger logger = LoggerFactory.getLogger(ProducerSessions.class);
    /** The longest wait before a producer that could not be opened is tried again. */
    private static final long MAX_OPEN_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(30);

    /** A producer session being opened (or whose opening failed). */
    static final class Opening {
        final String destination;
        final CompletableFuture<OutboxPublisher.Session> future;
        final long startedNanos;
        /** Failed openings of the same session right before this one (for the backoff). */
        final int failures;
        Attempt failure;
        long retryAfterNanos;
        /** Whether its failure was handed to a row or a resolution: only then is the opening tried again. */
        boolean reported;

        Opening(String destination, CompletableFuture<OutboxPublisher.Session> future, long startedNanos,
                int failures) {
            this.destination = destination;
            this.future = future;
            this.startedNanos = startedNanos;
            this.failures = failures;
        }

        /** Whether it is still under way (neither opened nor failed). */
        boolean underWay() {
            return failure == null && !future.isDone();
        }
    }

    private final OutboxPublisher publisher;
    private final boolean sequenced;
    private final long ackTimeoutNanos;
    private final Duration ackTimeout;
    private final long pollIntervalNanos;
    private final TransportWatch transport;
    private final LongSupplier nanoTime;
    /** Wakes the relay thread when an opening completes. */
    private final Runnable signal;
    /** Sessions opened since the segment was last resolved, by {@link #key}. */
    private final Map<String, OutboxPublisher.Session> sessions = new HashMap<>();
    /** Sessions being opened, or whose opening failed (kept until it may be tried again), by {@link #key}. */
    private final Map<String, Opening> openings = new HashMap<>();
    /** Segments whose producers were opened (or are opening) since they were last closed. */
    private final Set<Integer> opened = new HashSet<>();

    ProducerSessions(OutboxPublisher publisher, boolean sequenced, Duration ackTimeout, Duration pollInterval,
                     TransportWatch transport, LongSupplier nanoTime, Runnable signal) {
        this.publisher = publisher;
        this.sequenced = sequenced;
        this.ackTimeout = ackTimeout;
        this.ackTimeoutNanos = ackTimeout.toNanos();
        this.pollIntervalNanos = pollInterval.toNanos();
        this.transport = transport;
        this.nanoTime = nanoTime;
        this.signal = signal;
    }

    /** Sessions are per topic and segment with sequence ids, per topic (one shared producer) without. */
    String key(String topic, int segment) {
        return sequenced ? topic + '\u0000' + segment : topic;
    }

    /** The open session of this topic and segment, or {@code null}. */
    OutboxPublisher.Session get(String topic, int segment) {
        return sessions.get(key(topic, segment));
    }

    boolean isOpen(String key) {
        return sessions.containsKey(key);
    }

    /** The session opened: rows may be sent with it. */
    void opened(String key, String topic, OutboxPublisher.Session session) {
        sessions.put(key, session);
        openings.remove(key);
        transport.available(topic);
    }

    /** The session's producer is gone (closed under the relay, fenced): the next row opens it again. */
    void lost(String topic, int segment) {
        sessions.remove(key(topic, segment));
    }

    /** Whether producers of the segment may be open: an opening was started since it was last closed. */
    boolean mayHoldProducers(int segment) {
        return opened.contains(segment);
    }

    /** Forgets the segment's sessions and openings and closes its producers. */
    void closeSegment(int segment) {
        opened.remove(segment);
        sessions.keySet().removeIf(session -> session.endsWith("\u0000" + segment));
        openings.keySet().removeIf(session -> session.endsWith("\u0000" + segment));
        reportOpenings();
        publisher.closeSegment(segment);
    }

    /** Tells the watch which destinations still wait for a producer: none whose opening was refused or dropped. */
    private void reportOpenings() {
        Set<String> waiting = new HashSet<>();
        for (Opening opening : openings.values()) {
            if (opening.failure == null || opening.failure.kind().isRetryable()) {
                waiting.add(opening.destination);
            }
        }
        transport.stillOpening(waiting);
    }

    /** The opening under this key, its outcome settled; {@code null} if none was started. */
    Opening settled(String key) {
        Opening opening = openings.get(key);
        if (opening != null) {
            settle(opening, nanoTime.getAsLong());
        }
        return opening;
    }

    /**
     * The opening of a session, started when none runs or a failed one may be tried again, with its outcome
     * settled: a failure (or no answer within the ack timeout) is recorded with when to try again.
     */
    Opening opening(String topic, int segment) {
        String session = key(topic, segment);
        long now = nanoTime.getAsLong();
        Opening opening = openings.get(session);
        if (opening != null) {
            settle(opening, now);
            if (opening.failure == null || !opening.reported || now - opening.retryAfterNanos < 0) {
                return opening; // a failure is handed to the rows (or resolution) waiting for it before a retry
            }
        }
        opened.add(segment);
        CompletableFuture<OutboxPublisher.Session> future;
        try {
            future = sequenced ? publisher.openSession(topic, segment) // without ids: only ready the producer
                               : publisher.prepare(topic).thenApply(ready -> OutboxPublisher.Session.NOTHING_STORED);
        } catch (RuntimeException e) {
            future = CompletableFuture.failedFuture(e);
        }
        transport.opening(topic);
        Opening started = new Opening(topic, future, now, opening == null ? 0 : opening.failures + 1);
        future.whenComplete((result, error) -> signal.run());
        openings.put(session, started);
        settle(started, now);
        if (opening != null && started.failure == null) {
            logger.debug("Outbox relay: opening the producer for {} (segment {}) again", topic, segment);
        }
        return started;
    }

    /**
     * The session an opening for a resolution gave; {@code null} when the topic refuses producers for good
     * (unknown, refused): then none of the segment's rows can have been stored there since. A failure that may
     * pass (broker unreachable, the name still held by another node, not authorized or not found yet) is thrown:
     * the resolution is retried.
     */
    OutboxPublisher.Session sessionFor(Opening opening) {
        if (opening.failure == null) {
            return opening.future.join();
        }
        opening.reported = true;
        FailureKind kind = opening.failure.kind();
        if (kind.mayHaveBeenStored() || kind == FailureKind.NOT_AUTHORIZED || kind == FailureKind.NOT_FOUND) {
            throw new IllegalStateException(opening.failure.error());
        }
        return null;
    }

    /** The earliest of {@code deadline} and the ack deadlines of the openings under way under these keys. */
    long earliestDeadline(Iterable<String> keys, long deadline) {
        long earliest = deadline;
        for (String session : keys) {
            Opening opening = openings.get(session);
            if (opening != null && opening.failure == null) {
                earliest = Math.min(earliest, opening.startedNanos + ackTimeoutNanos);
            }
        }
        return earliest;
    }

    private void settle(Opening opening, long now) {
        if (opening.failure != null) {
            return;
        }
        if (!opening.future.isDone()) {
            if (now - opening.startedNanos - ackTimeoutNanos < 0) {
                return;
            }
            opening.failure = new Attempt(FailureKind.TIMEOUT, "Opening the producer did not complete within the "
                    + "relay's ack timeout of " + ackTimeout);
        } else if (opening.future.isCompletedExceptionally()) {
            Throwable error = opening.future.handle((result, e) -> e).join();
            opening.failure = Attempt.of(error instanceof CompletionException && error.getCause() != null
                                                 ? error.getCause() : error, publisher);
        } else {
            return;
        }
        // a refusal (e.g. the topic does not exist) is asked again by the next row: an operator may have fixed it
        long backoff = !opening.failure.kind().isRetryable() ? 0
                : Math.min(pollIntervalNanos << Math.min(opening.failures, 5), MAX_OPEN_BACKOFF_NANOS);
        opening.retryAfterNanos = now + backoff;
        if (opening.failure.kind().isRetryable()) { // a refusal parks its rows instead
            transport.unavailable(opening.destination, opening.failure.kind() + ": " + opening.failure.error());
        } else {
            reportOpenings(); // refused: it does not wait for the broker
        }
        if (opening.failures == 0 && backoff > 0) {
            logger.warn("Outbox relay: could not open a producer ({}); its rows are failed until it is tried "
                                + "again in {} ms", opening.failure.error(), TimeUnit.NANOSECONDS.toMillis(backoff));
        }
    }
}
