package io.github.pulsaroutbox.autoconfigure;

import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.deadletter.DeadLetteringEventHandlerInvoker;
import org.axonframework.eventhandling.AnnotationEventHandlerAdapter;
import org.axonframework.messaging.deadletter.GenericDeadLetter;
import org.axonframework.messaging.deadletter.InMemorySequencedDeadLetterQueue;
import org.axonframework.messaging.deadletter.SequencedDeadLetterQueue;
import org.springframework.beans.factory.support.StaticListableBeanFactory;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/**
 * A receiving group "billing" with a real in-memory dead-letter queue and Axon's dead-lettering invoker as its
 * dead-letter processor, whose handler records what it applies; "audit" is a receiving group without a queue.
 */
final class ParkedEvents {

    final SequencedDeadLetterQueue<EventMessage<?>> queue = InMemorySequencedDeadLetterQueue.defaultQueue();
    final List<String> applied = new CopyOnWriteArrayList<>();
    final ReceivingDeadLetters deadLetters;

    ParkedEvents() {
        DeadLetteringEventHandlerInvoker invoker =
                DeadLetteringEventHandlerInvoker.builder()
                                                .eventHandlers(new AnnotationEventHandlerAdapter(new Handler()))
                                                .queue(queue)
                                                .transactionManager(NoTransactionManager.instance())
                                                .build();
        EventProcessingConfiguration processing = mock(EventProcessingConfiguration.class);
        when(processing.deadLetterQueue("billing")).thenReturn(Optional.of(queue));
        when(processing.sequencedDeadLetterProcessor("billing")).thenReturn(Optional.of(invoker));
        StaticListableBeanFactory beans = new StaticListableBeanFactory(Map.of("processing", processing));
        deadLetters = new ReceivingDeadLetters(new ReceivingGroups(List.of("billing", "audit")),
                                               beans.getBeanProvider(EventProcessingConfiguration.class),
                                               beans.getBeanProvider(TransactionManager.class));
    }

    /** Parks event {@code sequence} of {@code order} (its id {@code order-sequence}), refused or behind another. */
    ParkedEvents park(String order, long sequence, boolean refused) {
        DomainEventMessage<String> event = new GenericDomainEventMessage<>("Order", order, sequence,
                                                                          "placed " + order + " " + sequence)
                .andMetaData(Map.of());
        DomainEventMessage<String> withId = new GenericDomainEventMessage<>(
                "Order", order, sequence, event.getPayload(), event.getMetaData(), order + "-" + sequence,
                event.getTimestamp());
        queue.enqueue(order, refused ? new GenericDeadLetter<>(order, withId, new IllegalStateException("refused"))
                                     : new GenericDeadLetter<>(order, withId));
        return this;
    }

    class Handler {
        @EventHandler
        void on(String placed, @SequenceNumber long sequence) {
            applied.add(placed);
        }
    }
}
