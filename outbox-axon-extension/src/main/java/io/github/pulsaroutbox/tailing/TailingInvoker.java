package io.github.pulsaroutbox.tailing;

import org.axonframework.eventhandling.EventHandlerInvoker;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.PropagatingErrorHandler;
import org.axonframework.eventhandling.Segment;
import org.axonframework.eventhandling.SimpleEventHandlerInvoker;
import org.axonframework.eventhandling.async.SequentialPerAggregatePolicy;


/**
 * The tailing processor's invoker: Axon's own, with events sequenced per aggregate and every handler failure
 * propagated (never logged and skipped: the batch fails and is retried), and told when the processor releases a
 * segment, so that the segment's producers close at once.
 */
final class TailingInvoker implements EventHandlerInvoker {

    private final TailingPublisher publisher;
    private final SimpleEventHandlerInvoker delegate;

    TailingInvoker(TailingPublisher publisher) {
        this.publisher = publisher;
        this.delegate = SimpleEventHandlerInvoker.builder()
                                                 .eventHandlers(publisher)
                                                 .sequencingPolicy(SequentialPerAggregatePolicy.instance())
                                                 .listenerInvocationErrorHandler(PropagatingErrorHandler.instance())
                                                 .build();
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
    }

    @Override
    public void segmentReleased(Segment segment) {
        publisher.segmentReleased(segment.getSegmentId());
    }
}
