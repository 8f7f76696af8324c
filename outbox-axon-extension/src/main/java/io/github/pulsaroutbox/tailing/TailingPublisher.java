package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.capture.EventEntries;
import io.github.pulsaroutbox.capture.TraceParentProvider;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.EventMessageHandler;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.messaging.unitofwork.BatchingUnitOfWork;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.axonframework.serialization.Serializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The event handler of the tailing processor: publishes the events of captured aggregates through the transport and
 * lets the batch end (and with it the processor's token advance) only when the broker acknowledged every one of them.
 * The batch waits for all acknowledgements after its last event ({@link #afterEvent()}, called by the invoker outside
 * the handler, and again before its unit of work commits); a failure fails the batch, its transaction (the token
 * update) rolls back and the processor retries the segment from its last token.
 * <p>
 * The handler itself throws only for an event it gives up on, and only with a dead-letter queue: one that cannot be
 * serialized, or whose sends failed in a way retrying cannot fix (refused, too large) or failed {@code maxAttempts}
 * times for a reason that may pass (broker outages and timeouts are retried until they end); the invoker parks it (and
 * its aggregate's later events behind it). Every other failure (a send, a session that does not open) marks the batch,
 * which stops sending and fails at its end. A parked event retried from the queue is published on its own, outside a
 * batch, and acknowledged before the retry ends.
 * <p>
 * <b>Unsequenced</b> (a transport without sequence ids): sends of different aggregates overlap; the sends of one
 * aggregate are chained, each after the previous one's acknowledgement, so that a refused send is never followed by a
 * later event of its aggregate.
 * <p>
 * <b>Sequenced</b> (effectively once with broker deduplication): per processor segment and topic one producer session
 * under a stable name, and each message's sequence id derived from its position in the event stream
 * ({@code position × 1024}, plus {@code k} for the k-th of several events upcast from one stored entry), so that a
 * batch re-sent after a crash carries the ids it had and the broker drops what it stored already (an id at or below
 * what the broker stored is sent unchanged: in stream order it was stored). Sends go out in stream order (ids rise in
 * call order, as the broker requires), and a send refused at once stops the batch. An event that arrives at or below
 * the position already handled — a late commit filling a gap of the global index — and an event whose earlier send was
 * refused outright (it never reached the broker) get an id above everything the producer stored or used
 * ({@code max + 1}), so the broker never drops them as copies (at least once for such events). The position a batch
 * starts from is the processor's in-memory status of the segment (the token committed last), never a read of the
 * token store (which would lock the token's row). A released segment closes its producers, so that the node taking it
 * over can open them.
 */
final class TailingPublisher implements EventMessageHandler {

    private static final String BATCH = TailingPublisher.class.getName() + ".batch";

    private final Supplier<CapturedAggregates> captured;
    private final Function<String, String> topics;
    private final Serializer serializer;
    private final OutboxPublisher publisher;
    private final TraceParentProvider traceParents;
    private final Duration ackTimeout;
    private final boolean sequenced;
    private final String processorName;
    private final Supplier<TokenStore> tokenStore;
    private final int maxAttempts;
    private volatile boolean deadLettering;
    /** Per segment, the token its work package committed last (in memory: reading the store would lock its row). */
    private final Function<Integer, java.util.Optional<TrackingToken>> committedTokens;
    private final String segmentResource;
    /** Per processor segment: its producer sessions and what a failed batch left behind. */
    private final Map<Integer, Map<String, TopicSequence>> segments = new ConcurrentHashMap<>();
    /** Events whose sends failed, until sent or given up on. */
    private final Map<String, Failure> failures = new ConcurrentHashMap<>();
    /** What health checks see: batches waiting for the broker, failures since the last acknowledged batch. */
    private final TailingWatch watch = new TailingWatch(java.time.Clock.systemUTC());

    TailingPublisher(Supplier<CapturedAggregates> captured, Function<String, String> topics, Serializer serializer,
                     OutboxPublisher publisher, TraceParentProvider traceParents, Duration ackTimeout,
                     boolean sequenced, String processorName, Supplier<TokenStore> tokenStore, int maxAttempts,
                     Function<Integer, java.util.Optional<TrackingToken>> committedTokens) {
        this.captured = captured;
        this.topics = topics;
        this.serializer = serializer;
        this.publisher = publisher;
        this.traceParents = traceParents;
        this.ackTimeout = ackTimeout;
        this.sequenced = sequenced;
        this.processorName = processorName;
        this.tokenStore = tokenStore;
        this.maxAttempts = maxAttempts;
        this.committedTokens = committedTokens;
        this.segmentResource = "Processor[" + processorName + "]/SegmentId";
    }

    /** Every event of the segment reaches {@link #handle}, so that the batch's last one is always seen. */
    @Override
    public boolean canHandle(EventMessage<?> event) {
        return true;
    }

    @Override
    public Class<?> getTargetType() {
        return TailingPublisher.class;
    }

    @Override
    public Object handle(EventMessage<?> event) throws Exception {
        UnitOfWork<?> unitOfWork = CurrentUnitOfWork.isStarted() ? CurrentUnitOfWork.get().root() : null;
        if (unitOfWork == null || !unitOfWork.resources().containsKey(segmentResource)) {
            publishAlone(event); // a dead letter being retried, or a call outside the processor
            return null;
        }
        Batch batch = unitOfWork.getResource(BATCH);
        if (batch == null) {
            Batch created = newBatch(unitOfWork);
            unitOfWork.resources().put(BATCH, created);
            unitOfWork.onPrepareCommit(u -> created.await());
            batch = created;
        }
        batch.advance(event);
        if (isPublished(event)) {
            // the only exceptions the handler throws: an event given up on (dead-lettered when there is a queue)
            OutboxEntry entry = entryOf(event);
            parkIfGivenUp(entry.id());
            batch.send(entry, topics.apply(entry.aggregateType()));
        }
        return null;
    }

    /**
     * Called by the invoker after each event of a batch (also one the dead-letter queue took without calling
     * {@link #handle}): at the batch's last event, waits for every acknowledgement, outside the handler, so that a
     * failure fails the batch (to be retried) and never dead-letters an event.
     */
    void afterEvent() {
        UnitOfWork<?> unitOfWork = CurrentUnitOfWork.isStarted() ? CurrentUnitOfWork.get().root() : null;
        if (unitOfWork instanceof BatchingUnitOfWork<?> batching && batching.isLastMessage()) {
            Batch batch = unitOfWork.getResource(BATCH);
            if (batch != null) {
                batch.await();
            }
        }
    }

    private boolean isPublished(EventMessage<?> event) {
        return event instanceof DomainEventMessage<?> domainEvent && domainEvent.getType() != null
                && captured.get().isCaptured(domainEvent.getType()) && !EventEntries.isExcluded(domainEvent);
    }

    /** The entry of a published event (see {@link #isPublished}); throws when it cannot be serialized. */
    private OutboxEntry entryOf(EventMessage<?> event) {
        DomainEventMessage<?> domainEvent = (DomainEventMessage<?>) event;
        return EventEntries.of(domainEvent, serializer, traceParents.traceParent(domainEvent));
    }

    /** Publishes one event on its own and waits for the acknowledgement (at least once: no sequence id). */
    private void publishAlone(EventMessage<?> event) throws Exception {
        if (!isPublished(event)) {
            return;
        }
        OutboxEntry entry = entryOf(event);
        try {
            publisher.publish(entry, topics.apply(entry.aggregateType()))
                     .get(ackTimeout.toMillis(), TimeUnit.MILLISECONDS);
            failures.remove(entry.id());
        } catch (ExecutionException e) {
            throw new TailingPublishException("Publishing event " + entry.id() + " failed", e.getCause());
        }
    }

    /**
     * With a dead-letter queue, throws for an event whose earlier sends failed in a way retrying will not fix (refused
     * by the broker, too large, …) or failed {@code maxAttempts} times for a reason that may pass (except broker
     * outages and timeouts, retried until they end): the invoker parks it there, with its aggregate's later events
     * behind it. Without a queue nothing is given up on: the event is sent again (with a fresh sequence id when it was
     * refused outright) each time its batch is retried, until it goes.
     */
    private void parkIfGivenUp(String eventId) {
        Failure failure = failures.get(eventId);
        if (deadLettering && failure != null && (!failure.kind().isRetryable()
                || (!failure.kind().isRetriedUntilResolved() && failure.attempts() >= maxAttempts))) {
            failures.remove(eventId);
            throw new TailingPublishException("Event " + eventId + " could not be published (" + failure.kind()
                                                      + ", " + failure.attempts() + " attempt(s))", failure.cause());
        }
    }

    /** Whether events given up on are parked (the processing group has a dead-letter queue). */
    void deadLettering(boolean deadLettering) {
        this.deadLettering = deadLettering;
    }

    private void failed(String eventId, Throwable cause) {
        Throwable unwrapped = cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null
                ? cause.getCause() : cause;
        io.github.pulsaroutbox.FailureKind kind = publisher.classify(unwrapped);
        failures.merge(eventId, new Failure(kind, unwrapped, 1),
                       (previous, next) -> new Failure(kind, unwrapped, previous.attempts() + 1));
    }

    /** How an event's sends failed so far. */
    private record Failure(io.github.pulsaroutbox.FailureKind kind, Throwable cause, int attempts) {
    }

    /** What this publisher saw of the broker lately. */
    TailingWatch watch() {
        return watch;
    }

    /** The processor released {@code segment}: its producers close, so that another node can open them. */
    void segmentReleased(int segment) {
        watch.released(segment);
        if (segments.remove(segment) != null) {
            publisher.closeSegment(segment);
        }
    }

    private Batch newBatch(UnitOfWork<?> unitOfWork) {
        if (!sequenced || !(unitOfWork.resources().get(segmentResource) instanceof Integer segment)) {
            Batch unsequenced = new Batch(-1, null, -1);
            if (unitOfWork.resources().get(segmentResource) instanceof Integer processorSegment) {
                unsequenced.watched = processorSegment; // so that releasing the segment clears what it waited for
            }
            return unsequenced;
        }
        Map<String, TopicSequence> sessions = segments.computeIfAbsent(segment, s -> new HashMap<>());
        try {
            // the token this batch starts from: what comes at or below its position now is a late commit
            TrackingToken start = committedTokens.apply(segment)
                                                 .orElseGet(() -> tokenStore.get().fetchToken(processorName, segment));
            return new Batch(segment, sessions, start == null ? -1 : start.position().orElse(-1));
        } catch (RuntimeException e) {
            Batch batch = new Batch(segment, sessions, -1);
            batch.broken(e); // fails the batch at its end, outside the handler
            return batch;
        }
    }

    /** The sends of one batch. */
    private final class Batch {

        private final int segment;
        /** The processor segment health reports this batch under (its segment; unsequenced: the processor's, if any). */
        private int watched;
        /** The segment's open session per topic (kept across batches of this process); {@code null}: unsequenced. */
        private final Map<String, TopicSequence> sessions;
        private final StreamCursor cursor;
        /** Why this batch cannot succeed (a send refused at once, a session that did not open): it fails at its end. */
        private Throwable broken;
        private final Map<String, CompletableFuture<?>> lastByAggregate = new HashMap<>();
        private final Map<String, CompletableFuture<?>> sends = new java.util.LinkedHashMap<>();

        Batch(int segment, Map<String, TopicSequence> sessions, long storedPosition) {
            this.segment = segment;
            this.watched = segment;
            this.sessions = sessions;
            this.cursor = new StreamCursor(storedPosition);
        }

        /** Notes the event's position in the stream, and whether it comes late (at or below what came before). */
        void advance(EventMessage<?> event) {
            if (sessions == null) {
                return;
            }
            cursor.advance(event instanceof TrackedEventMessage<?> tracked ? tracked.trackingToken() : null);
        }

        void broken(Throwable cause) {
            if (broken == null) {
                broken = cause;
            }
        }

        void send(OutboxEntry entry, String topic) {
            if (broken != null) {
                return; // the batch fails at its end; later sends would overtake the one that could not go
            }
            watch.waiting(watched);
            CompletableFuture<?> sent;
            if (sessions == null) {
                CompletableFuture<?> previous = lastByAggregate.get(entry.aggregateId());
                sent = previous == null
                        ? publisher.publish(entry, topic)
                        : previous.thenCompose(acknowledged -> publisher.publish(entry, topic));
                lastByAggregate.put(entry.aggregateId(), sent);
            } else {
                TopicSequence session;
                try {
                    session = session(topic);
                } catch (Exception e) {
                    broken(e);
                    return;
                }
                Failure failure = failures.get(entry.id());
                // a send refused outright never reached the broker: a fresh id, so deduplication cannot drop it
                boolean refusedBefore = failure != null && !failure.kind().mayHaveBeenStored();
                long id = session.idFor(cursor, refusedBefore);
                sent = publisher.publish(entry, topic, segment, id);
            }
            sends.put(entry.id(), sent);
            if (sent.isCompletedExceptionally()) { // refused at once, e.g. too large: later sends would overtake it
                Throwable cause = sent.handle((ok, error) -> error).join();
                TailingPublisher.this.failed(entry.id(), cause);
                sends.remove(entry.id());
                parkIfGivenUp(entry.id()); // throws (the event is dead-lettered) if retrying cannot help
                broken(cause);
            }
        }

        private TopicSequence session(String topic) throws Exception {
            TopicSequence session = sessions.get(topic);
            if (session == null) {
                OutboxPublisher.Session opened = publisher.openSession(topic, segment)
                                                         .get(ackTimeout.toMillis(), TimeUnit.MILLISECONDS);
                session = new TopicSequence(opened.highestStored());
                sessions.put(topic, session);
            }
            return session;
        }

        void await() {
            if (sends.isEmpty() && broken == null) {
                watch.released(watched); // e.g. its only event was dead-lettered: nothing waits for the broker
                return;
            }
            try {
                if (broken != null) {
                    CompletableFuture.allOf(sends.values().toArray(CompletableFuture[]::new))
                                     .handle((ok, error) -> null)
                                     .get(ackTimeout.toMillis(), TimeUnit.MILLISECONDS);
                    throw new ExecutionException(broken);
                }
                CompletableFuture.allOf(sends.values().toArray(CompletableFuture[]::new))
                                 .get(ackTimeout.toMillis(), TimeUnit.MILLISECONDS);
                succeeded();
            } catch (ExecutionException e) {
                failed();
                watch.failed(publisher.classify(e.getCause()), e.getCause().getClass().getSimpleName() + ": "
                        + e.getCause().getMessage());
                throw new TailingPublishException("Publishing a batch of events to Pulsar failed; the processor "
                                                          + "retries it from its last token", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failed();
                throw new TailingPublishException("Interrupted while waiting for the broker's acknowledgements", e);
            } catch (TimeoutException e) {
                failed();
                watch.failed(io.github.pulsaroutbox.FailureKind.TIMEOUT, "no acknowledgement within " + ackTimeout);
                throw new TailingPublishException("The broker did not acknowledge a batch of events within "
                                                          + ackTimeout + "; the processor retries it from its last "
                                                          + "token", e);
            }
        }

        private void succeeded() {
            watch.acknowledged(watched);
            sends.keySet().forEach(failures::remove);
            sends.clear();
            lastByAggregate.clear();
        }

        /** Remembers how the batch's sends failed; the processor then releases the segment (closing its sessions). */
        private void failed() {
            sends.forEach((id, sent) -> {
                if (sent.isCompletedExceptionally()) {
                    TailingPublisher.this.failed(id, sent.handle((ok, error) -> error).join());
                } else if (sent.isDone()) {
                    failures.remove(id);
                }
            });
            if (sessions != null) {
                sessions.clear();
            }
            sends.clear();
            lastByAggregate.clear();
        }
    }
}
