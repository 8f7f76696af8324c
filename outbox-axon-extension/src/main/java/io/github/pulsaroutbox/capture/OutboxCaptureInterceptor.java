package io.github.pulsaroutbox.capture;

import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.messaging.MessageDispatchInterceptor;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.axonframework.serialization.SerializationException;
import org.axonframework.serialization.SerializedType;
import org.axonframework.serialization.Serializer;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Supplier;


/**
 * Mirrors the events of {@link io.github.pulsaroutbox.Outbox}-annotated aggregates into the outbox.
 * <p>
 * Register it on the {@link org.axonframework.eventsourcing.eventstore.EventStore} itself (not on the event
 * gateway: aggregate events do not pass the gateway's interceptors). The event store invokes its dispatch
 * interceptors in the unit of work's prepare-commit phase, right before it appends the same events, so the outbox
 * rows are written in the same database transaction: they commit if and only if the events commit. A failure to
 * serialize or insert fails the unit of work, and with it the command.
 * <p>
 * Only {@link DomainEventMessage}s of captured aggregate types are written; other events pass untouched. Messages
 * are never modified. An event that cannot be serialized to JSON (payload or metadata) by a serializer other than the
 * event store's does not fail the unit of work: its row is written parked ({@link FailureKind#UNREADABLE_PAYLOAD})
 * so that it is visible to operators and later rows of its aggregate wait behind it. When the serializer is the event
 * store's own ({@link #failingOnUnserializableEvents()}), the event store cannot store the event either: the unit of
 * work fails with a {@link SerializationException} naming the event, its aggregate and the cause (instead of the
 * event store's generic "was already inserted" message). Each row stores the unit of work's {@code traceparent} when there is one. After the unit
 * of work commits, {@code onCommit} runs once (used to wake the relay).
 */
public final class OutboxCaptureInterceptor implements MessageDispatchInterceptor<EventMessage<?>> {

    private static final String COMMIT_SIGNAL_RESOURCE = OutboxCaptureInterceptor.class.getName() + ".signal";

    private final Supplier<CapturedAggregates> capturedAggregates;
    private final OutboxStore store;
    private final Serializer serializer;
    private final Runnable onCommit;
    private final TraceParentProvider traceParentProvider;
    private final OutboxMetrics metrics;
    private final java.util.function.Function<String, java.util.Optional<String>> topics;
    private final boolean failOnUnserializable;

    /**
     * @param capturedAggregates  which aggregate types to capture (consulted on every call)
     * @param store               where rows are written, in the caller's transaction
     * @param serializer          serializes payload and metadata to JSON text ({@code String})
     * @param onCommit            run after the unit of work that wrote rows committed
     * @param traceParentProvider finds the trace context to store with each row
     * @param metrics             told about rows parked at capture
     */
    public OutboxCaptureInterceptor(Supplier<CapturedAggregates> capturedAggregates, OutboxStore store,
                                    Serializer serializer, Runnable onCommit,
                                    TraceParentProvider traceParentProvider, OutboxMetrics metrics) {
        this(capturedAggregates, store, serializer, onCommit, traceParentProvider, metrics,
             type -> java.util.Optional.empty());
    }

    /**
     * As {@link #OutboxCaptureInterceptor(Supplier, OutboxStore, Serializer, Runnable, TraceParentProvider,
     * OutboxMetrics)}, storing each row's topic as resolved now.
     *
     * @param topics the topic of an aggregate type at capture (empty: the relay resolves it when it sends)
     */
    public OutboxCaptureInterceptor(Supplier<CapturedAggregates> capturedAggregates, OutboxStore store,
                                    Serializer serializer, Runnable onCommit,
                                    TraceParentProvider traceParentProvider, OutboxMetrics metrics,
                                    java.util.function.Function<String, java.util.Optional<String>> topics) {
        this(capturedAggregates, store, serializer, onCommit, traceParentProvider, metrics, topics, false);
    }

    private OutboxCaptureInterceptor(Supplier<CapturedAggregates> capturedAggregates, OutboxStore store,
                                     Serializer serializer, Runnable onCommit,
                                     TraceParentProvider traceParentProvider, OutboxMetrics metrics,
                                     java.util.function.Function<String, java.util.Optional<String>> topics,
                                     boolean failOnUnserializable) {
        this.failOnUnserializable = failOnUnserializable;
        this.topics = Objects.requireNonNull(topics, "topics");
        this.capturedAggregates = Objects.requireNonNull(capturedAggregates, "capturedAggregates");
        this.store = Objects.requireNonNull(store, "store");
        this.serializer = Objects.requireNonNull(serializer, "serializer");
        this.onCommit = Objects.requireNonNull(onCommit, "onCommit");
        this.traceParentProvider = Objects.requireNonNull(traceParentProvider, "traceParentProvider");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }


    /**
     * This interceptor, failing the unit of work on an event it cannot serialize instead of parking its row: for a
     * serializer that is the event store's own, which cannot store the event either.
     *
     * @return a copy that fails on unserializable events
     */
    public OutboxCaptureInterceptor failingOnUnserializableEvents() {
        return new OutboxCaptureInterceptor(capturedAggregates, store, serializer, onCommit, traceParentProvider,
                                            metrics, topics, true);
    }

    @Override
    public BiFunction<Integer, EventMessage<?>, EventMessage<?>> handle(
            List<? extends EventMessage<?>> messages) {
        CapturedAggregates captured = capturedAggregates.get();
        List<OutboxEntry> entries = new ArrayList<>();
        for (EventMessage<?> message : messages) {
            if (message instanceof DomainEventMessage<?> event && event.getType() != null
                    && captured.isCaptured(event.getType()) && !EventEntries.isExcluded(event)) {
                entries.add(toEntry(event).withTopic(topics.apply(event.getType()).orElse(null)));
            }
        }
        if (!entries.isEmpty()) {
            store.append(entries);
            signalAfterCommit();
        }
        return (index, message) -> message;
    }

    private OutboxEntry toEntry(DomainEventMessage<?> event) {
        String traceParent = EventEntries.validTraceParent(traceParentProvider.traceParent(event));
        try {
            return EventEntries.of(event, serializer, traceParent);
        } catch (RuntimeException e) {
            if (failOnUnserializable && isSerializationFailure(e)) {
                throw new SerializationException(
                        "The event " + event.getPayloadType().getName() + " of aggregate " + event.getType() + " "
                                + event.getAggregateIdentifier() + " (sequence " + event.getSequenceNumber()
                                + ") cannot be serialized to JSON by the event serializer, so neither the outbox nor "
                                + "the event store can store it: " + rootMessage(e), e);
            }
            // the event store may still store it (another serializer): keep the row, parked, so nothing is lost
            String metadata = "{}";
            try {
                metadata = serializer.serialize(event.getMetaData(), String.class).getData();
            } catch (RuntimeException unreadableToo) {
                // the payload's failure is the one reported; the metadata stays empty
            }
            SerializedType type = serializer.typeForClass(event.getPayloadType());
            String revision = type.getRevision();
            OutboxEntry parked = OutboxEntry.pending(event.getIdentifier(), event.getTimestamp(), type.getName(),
                                                     event.getType(), event.getAggregateIdentifier(),
                                                     event.getSequenceNumber(), "null", metadata,
                                                     revision == null
                                                             || revision.length() > EventEntries.MAX_VERSION_LENGTH
                                                             ? OutboxEntry.NO_REVISION : revision,
                                                     traceParent)
                                            .parked(FailureKind.UNREADABLE_PAYLOAD,
                                                    "The event could not be serialized to JSON: " + e.getMessage());
            metrics.failed(FailureKind.UNREADABLE_PAYLOAD, OutboxStore.Outcome.PARK); // counted once it exists
            return parked;
        }
    }

    /** A failure of the serializer itself (not, for example, a revision too long for the outbox's column). */
    private static boolean isSerializationFailure(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof SerializationException
                    || cause instanceof com.fasterxml.jackson.core.JsonProcessingException) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }

    private void signalAfterCommit() {
        if (!CurrentUnitOfWork.isStarted()) {
            onCommit.run();
            return;
        }
        UnitOfWork<?> root = CurrentUnitOfWork.get().root();
        if (root.resources().putIfAbsent(COMMIT_SIGNAL_RESOURCE, Boolean.TRUE) == null) {
            root.afterCommit(u -> onCommit.run());
        }
    }
}
