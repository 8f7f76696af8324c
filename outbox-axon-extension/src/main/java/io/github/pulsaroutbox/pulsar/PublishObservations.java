package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.OutboxEntry;
import io.micrometer.common.KeyValues;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.ReceiverContext;
import io.micrometer.observation.transport.SenderContext;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Micrometer Observations around each send, so that with a tracing bridge a trace shows command → outbox → broker:
 * <ul>
 *     <li>{@value #RELAY} (kind {@code CONSUMER}): the row taken from the outbox, continuing the trace captured with
 *     it (its stored {@code traceparent}, read through the registry's propagating receiver handler). Only for rows
 *     that carry a trace: a row without one starts its trace at the send.</li>
 *     <li>{@value #SEND} (kind {@code PRODUCER}), its child: from the send until the broker's acknowledgement or
 *     failure; the tracing bridge's propagating sender handler writes its context into the message's properties, so
 *     the message's {@code traceparent} names this span.</li>
 * </ul>
 * Key values are low-cardinality ({@code messaging.system}, {@code messaging.destination.name}, the aggregate type),
 * so the timers they yield with a meter handler stay bounded; the event id is a high-cardinality value (spans only).
 * With a no-op registry nothing is created.
 */
final class PublishObservations {

    /** The observation of a row's way from the outbox to the send. */
    static final String RELAY = "pulsar.outbox.relay";
    /** The observation of one send, until the broker's acknowledgement. */
    static final String SEND = "pulsar.outbox.send";

    private final ObservationRegistry registry;

    PublishObservations(ObservationRegistry registry) {
        this.registry = registry;
    }

    /**
     * Sends {@code entry} through {@code send} (given the message's properties, which it must set on the message
     * after this method has added the trace context), observed as described above.
     */
    <T> CompletableFuture<T> observe(OutboxEntry entry, String topic, Map<String, String> properties,
                                     Function<Map<String, String>, CompletableFuture<T>> send) {
        if (registry.isNoop()) {
            return send.apply(properties);
        }
        KeyValues low = KeyValues.of("messaging.system", "pulsar",
                                     "messaging.destination.name", topic,
                                     "outbox.aggregate.type", entry.aggregateType());
        Observation relay = null;
        if (entry.traceParent() != null) {
            ReceiverContext<Map<String, String>> relayContext = new ReceiverContext<>(
                    (carrier, key) -> carrier == null ? null : carrier.get(key), Kind.CONSUMER);
            relayContext.setCarrier(Map.of(OutboxMessageProperties.TRACE_PARENT, entry.traceParent()));
            relayContext.setRemoteServiceName("outbox");
            relay = Observation.createNotStarted(RELAY, () -> relayContext, registry)
                               .contextualName("outbox " + entry.aggregateType() + " relay")
                               .lowCardinalityKeyValues(low)
                               .highCardinalityKeyValue("messaging.message.id", entry.id())
                               .start();
        }
        SenderContext<Map<String, String>> sendContext = new SenderContext<>(
                (carrier, key, value) -> {
                    if (carrier != null) {
                        carrier.put(key, value);
                    }
                }, Kind.PRODUCER);
        sendContext.setCarrier(properties);
        sendContext.setRemoteServiceName("Apache Pulsar");
        Observation observation = Observation.createNotStarted(SEND, () -> sendContext, registry)
                                             .contextualName(topic + " send")
                                             .lowCardinalityKeyValues(low)
                                             .highCardinalityKeyValue("messaging.message.id", entry.id());
        if (relay != null) {
            observation.parentObservation(relay);
        }
        observation.start();
        Observation parent = relay;
        CompletableFuture<T> sent;
        try {
            sent = send.apply(properties);
        } catch (RuntimeException e) {
            stop(observation, parent, e);
            throw e;
        }
        return sent.whenComplete((result, error) -> stop(observation, parent, error));
    }

    private static void stop(Observation send, Observation relay, Throwable error) {
        if (error != null) {
            send.error(error);
        }
        send.stop();
        if (relay != null) {
            if (error != null) {
                relay.error(error);
            }
            relay.stop();
        }
    }
}
