package io.github.pulsaroutbox.tailing;

import org.axonframework.eventhandling.EventHandlerInvoker;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.PropagatingErrorHandler;
import org.axonframework.eventhandling.Segment;
import org.axonframework.eventhandling.SimpleEventHandlerInvoker;
import org.axonframework.eventhandling.async.SequentialPerAggregatePolicy;
import org.axonframework.eventhandling.deadletter.DeadLetteringEventHandlerInvoker;


/**
 * The tailing processor's invoker: Axon's own, with events sequenced per aggregate and every handler failure
 * propagated (never logged and skipped), or, when the processing group has a dead-letter queue, Axon's dead-lettering
 * invoker (an event the handler gives up on is parked there, and its aggregate's later events behind it). After each
 * event it lets the publisher wait for the batch's acknowledgements at the batch's end, outside the handler, so that
 * a failed send fails the batch rather than dead-lettering an event. Told when the processor releases a segment, so
 * that the segment's producers close at once.
 */
final class TailingInvoker implements EventHandlerInvoker {

    private final TailingPublisher publisher;
    private final EventHandlerInvoker delegate;

    /**
     * @param deadLetters the processing group's dead-letter queue, its enqueue policy (or {@code null} for Axon's:
     *                    always) and the transaction manager, or {@code null} without one
     */
    TailingInvoker(TailingPublisher publisher, DeadLetters deadLetters) {
        this.publisher = publisher;
        if (deadLetters == null) {
            this.delegate = SimpleEventHandlerInvoker.builder()
                                                     .eventHandlers(publisher)
                                                     .sequencingPolicy(SequentialPerAggregatePolicy.instance())
                                                     .listenerInvocationErrorHandler(PropagatingErrorHandler.instance())
                                                     .build();
        } else {
            DeadLetteringEventHandlerInvoker.Builder builder =
                    DeadLetteringEventHandlerInvoker.builder()
                                                    .eventHandlers(publisher)
                                                    .sequencingPolicy(SequentialPerAggregatePolicy.instance())
                                                    .listenerInvocationErrorHandler(PropagatingErrorHandler.instance())
                                                    .queue(deadLetters.queue())
                                                    .transactionManager(deadLetters.transactionManager());
            if (deadLetters.policy() != null) {
                // the handler throws only for an event it gave up on: that one is always parked, never skipped
                org.axonframework.messaging.deadletter.EnqueuePolicy<EventMessage<?>> policy = deadLetters.policy();
                builder.enqueuePolicy((letter, cause) -> {
                    org.axonframework.messaging.deadletter.EnqueueDecision<EventMessage<?>> decision =
                            policy.decide(letter, cause);
                    return decision.shouldEnqueue() ? decision
                                                    : org.axonframework.messaging.deadletter.Decisions.enqueue(cause);
                });
            }
            this.delegate = builder.build();
        }
    }

    /** The dead-letter processor (to retry parked events), when there is a dead-letter queue. */
    java.util.Optional<DeadLetteringEventHandlerInvoker> deadLetterProcessor() {
        return delegate instanceof DeadLetteringEventHandlerInvoker invoker ? java.util.Optional.of(invoker)
                                                                           : java.util.Optional.empty();
    }

    /** A processing group's dead-letter set-up. */
    record DeadLetters(org.axonframework.messaging.deadletter.SequencedDeadLetterQueue<EventMessage<?>> queue,
                       org.axonframework.messaging.deadletter.EnqueuePolicy<EventMessage<?>> policy,
                       org.axonframework.common.transaction.TransactionManager transactionManager) {
    }

    @Override
    public boolean canHandle(EventMessage<?> eventMessage, Segment segment) {
        return delegate.canHandle(eventMessage, segment);
    }

    @Override
    public boolean canHandleType(Class<?> payloadType) {
        return delegate.canHandleType(payloadType);
    }

    @Override
    public void handle(EventMessage<?> message, Segment segment) throws Exception {
        delegate.handle(message, segment);
        publisher.afterEvent();
    }

    @Override
    public void segmentReleased(Segment segment) {
        delegate.segmentReleased(segment);
        publisher.segmentReleased(segment.getSegmentId());
    }

    @Override
    public boolean supportsReset() {
        return delegate.supportsReset();
    }

    @Override
    public <R> void performReset(R resetContext) {
        delegate.performReset(resetContext);
    }
}
