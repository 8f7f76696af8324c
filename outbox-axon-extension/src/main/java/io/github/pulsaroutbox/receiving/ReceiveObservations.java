package io.github.pulsaroutbox.receiving;

import io.micrometer.common.KeyValues;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.ReceiverContext;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.InterceptorChain;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.MessageHandlerInterceptor;
import org.axonframework.messaging.unitofwork.UnitOfWork;

import static org.axonframework.common.BuilderUtils.assertNonNull;
import static org.axonframework.common.BuilderUtils.assertThat;

/**
 * A Micrometer Observation around a processing group's handling of each received event, so that with a tracing bridge
 * the consumer's span continues the producer's trace: register it on the group's processor like any handler
 * interceptor. The observation {@value #NAME} (kind {@code CONSUMER}, contextual name {@code "<group> receive"}) reads
 * the trace context from the event's metadata, where {@link OutboxMessageConverter} restored the message's
 * {@code traceparent} (the relay's send span), through the registry's propagating receiver handler; it is current
 * while the handlers (and the inbox) run, so their own spans and logs are in the same trace, and it records a
 * handler's failure as its error. An event without a trace context starts a trace. Key values: low-cardinality
 * {@code messaging.system}, {@code messaging.consumer.group.name} (the group) and {@code messaging.operation}
 * ({@code process}); high-cardinality {@code messaging.message.id} (the event id) and {@code outbox.aggregate.id}.
 * With a no-op registry it only passes the event on.
 */
public final class ReceiveObservations implements MessageHandlerInterceptor<EventMessage<?>> {

    /** The observation of one event's handling by a processing group. */
    public static final String NAME = "pulsar.outbox.receive";

    private final ObservationRegistry registry;
    private final String processingGroup;

    /** Observes {@code processingGroup}'s handling in {@code registry}. */
    public ReceiveObservations(ObservationRegistry registry, String processingGroup) {
        assertNonNull(registry, "registry may not be null");
        assertThat(processingGroup, g -> g != null && !g.isBlank(), "processingGroup may not be blank");
        this.registry = registry;
        this.processingGroup = processingGroup;
    }

    @Override
    public Object handle(UnitOfWork<? extends EventMessage<?>> unitOfWork, InterceptorChain interceptorChain)
            throws Exception {
        if (registry.isNoop()) {
            return interceptorChain.proceed();
        }
        EventMessage<?> event = unitOfWork.getMessage();
        ReceiverContext<MetaData> context = new ReceiverContext<>((metaData, key) -> {
            Object value = metaData == null ? null : metaData.get(key);
            return value == null ? null : value.toString();
        }, Kind.CONSUMER);
        context.setCarrier(event.getMetaData());
        context.setRemoteServiceName("Apache Pulsar");
        KeyValues high = KeyValues.of("messaging.message.id", event.getIdentifier());
        if (event instanceof DomainEventMessage<?> domain && domain.getAggregateIdentifier() != null) {
            high = high.and("outbox.aggregate.id", domain.getAggregateIdentifier());
        }
        Observation observation =
                Observation.createNotStarted(NAME, () -> context, registry)
                           .contextualName(processingGroup + " receive")
                           .lowCardinalityKeyValues(KeyValues.of("messaging.system", "pulsar",
                                                                 "messaging.consumer.group.name", processingGroup,
                                                                 "messaging.operation", "process"))
                           .highCardinalityKeyValues(high)
                           .start();
        try (Observation.Scope ignored = observation.openScope()) {
            return interceptorChain.proceed();
        } catch (Exception | Error e) {
            observation.error(e);
            throw e;
        } finally {
            observation.stop();
        }
    }
}
