package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.capture.EventEntries;
import io.github.pulsaroutbox.capture.TraceParentProvider;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.EventMessageHandler;
import org.axonframework.messaging.unitofwork.BatchingUnitOfWork;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.axonframework.serialization.Serializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The event handler of the tailing processor: publishes the events of captured aggregates through the transport and
 * lets the batch end (and with it the processor's token advance) only when the broker acknowledged every one of them.
 * <p>
 * Within a batch, sends of different aggregates overlap; the sends of one aggregate are chained, each after the
 * previous one's acknowledgement, so that a refused send is never followed by a later event of its aggregate and the
 * first delivery of each key stays in order. The batch waits for all acknowledgements at its last message (and again
 * before its unit of work commits, should a batch end on an event this handler was not given); a failure fails the
 * batch, its transaction (the token update) rolls back and the processor retries the segment from its last token.
 */
final class TailingPublisher implements EventMessageHandler {

    private static final String BATCH = TailingPublisher.class.getName() + ".batch";

    private final Supplier<CapturedAggregates> captured;
    private final Function<String, String> topics;
    private final Serializer serializer;
    private final OutboxPublisher publisher;
    private final TraceParentProvider traceParents;
    private final Duration ackTimeout;

    TailingPublisher(Supplier<CapturedAggregates> captured, Function<String, String> topics, Serializer serializer,
                     OutboxPublisher publisher, TraceParentProvider traceParents, Duration ackTimeout) {
        this.captured = captured;
        this.topics = topics;
        this.serializer = serializer;
        this.publisher = publisher;
        this.traceParents = traceParents;
        this.ackTimeout = ackTimeout;
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
        UnitOfWork<?> unitOfWork = CurrentUnitOfWork.isStarted() ? CurrentUnitOfWork.get() : null;
        Batch batch = unitOfWork == null ? new Batch() : unitOfWork.root().getOrComputeResource(BATCH, key -> {
            Batch created = new Batch();
            unitOfWork.root().onPrepareCommit(u -> created.await());
            return created;
        });
        if (event instanceof DomainEventMessage<?> domainEvent && domainEvent.getType() != null
                && captured.get().isCaptured(domainEvent.getType()) && !EventEntries.isExcluded(domainEvent)) {
            OutboxEntry entry = EventEntries.of(domainEvent, serializer, traceParents.traceParent(domainEvent));
            batch.send(entry, topics.apply(domainEvent.getType()));
        }
        if (unitOfWork == null || (unitOfWork.root() instanceof BatchingUnitOfWork<?> batching
                && batching.isLastMessage())) {
            batch.await();
        }
        return null;
    }

    /** The sends of one batch: the last one per aggregate, and all of them. */
    private final class Batch {

        private final Map<String, CompletableFuture<?>> lastByAggregate = new HashMap<>();
        private final List<CompletableFuture<?>> sends = new ArrayList<>();

        void send(OutboxEntry entry, String topic) {
            CompletableFuture<?> previous = lastByAggregate.get(entry.aggregateId());
            CompletableFuture<?> sent = previous == null
                    ? publisher.publish(entry, topic)
                    : previous.thenCompose(acknowledged -> publisher.publish(entry, topic));
            lastByAggregate.put(entry.aggregateId(), sent);
            sends.add(sent);
        }

        void await() {
            if (sends.isEmpty()) {
                return;
            }
            try {
                CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new))
                                 .get(ackTimeout.toMillis(), TimeUnit.MILLISECONDS);
                sends.clear();
                lastByAggregate.clear();
            } catch (ExecutionException e) {
                throw new TailingPublishException("Publishing a batch of events to Pulsar failed; the processor "
                                                          + "retries it from its last token", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TailingPublishException("Interrupted while waiting for the broker's acknowledgements", e);
            } catch (TimeoutException e) {
                throw new TailingPublishException("The broker did not acknowledge a batch of events within "
                                                          + ackTimeout + "; the processor retries it from its last "
                                                          + "token", e);
            }
        }
    }
}
