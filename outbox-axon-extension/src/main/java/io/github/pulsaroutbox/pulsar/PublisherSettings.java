package io.github.pulsaroutbox.pulsar;

import io.micrometer.observation.ObservationRegistry;
import org.apache.pulsar.client.api.BatcherBuilder;
import org.apache.pulsar.client.api.HashingScheme;
import org.apache.pulsar.client.api.ProducerBuilder;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The settings of a {@link PulsarOutboxPublisher}, as its builder validated them, and the parts built from them:
 * producer builders ({@link #newProducer}) and the mapping of rows to messages ({@link #messages()}).
 * <p>
 * Guarantees: immutable (the metadata properties are copied); every producer is built with Murmur3 key hashing,
 * key-based batching (when on), a full queue or memory limit
 * failing the send at once (never blocking the sending thread; {@link io.github.pulsaroutbox.FailureKind#BUSY}), the send timeout and pending-message limit, and the customizer
 * applied last, so that it may override any of these.
 *
 * @param producerNamePrefix the prefix of the segment producers' names (the source unless set)
 */
record PublisherSettings(PulsarClient client,
                         String source,
                         Duration sendTimeout,
                         boolean batching,
                         Duration batchingMaxPublishDelay,
                         int maxPendingMessages,
                         Consumer<ProducerBuilder<byte[]>> producerCustomizer,
                         boolean registerSchemas,
                         Function<String, Class<?>> eventClasses,
                         String producerNamePrefix,
                         Function<String, String> eventTypeNames,
                         Map<String, String> metadataProperties,
                         MessagePropertiesCustomizer propertiesCustomizer,
                         ObservationRegistry observationRegistry) {

    PublisherSettings {
        metadataProperties = Map.copyOf(metadataProperties);
    }

    /** A producer builder for {@code topic} with these settings (the customizer applied last). */
    ProducerBuilder<byte[]> newProducer(String topic) {
        ProducerBuilder<byte[]> builder = client.newProducer(Schema.BYTES)
                                                .topic(topic)
                                                .hashingScheme(HashingScheme.Murmur3_32Hash)
                                                .enableBatching(batching)
                                                .batcherBuilder(BatcherBuilder.KEY_BASED)
                                                .batchingMaxPublishDelay(batchingMaxPublishDelay.toNanos(),
                                                                         TimeUnit.NANOSECONDS)
                                                .blockIfQueueFull(false)
                                                .maxPendingMessages(maxPendingMessages)
                                                .sendTimeout((int) sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
        producerCustomizer.accept(builder);
        return builder;
    }

    /** Maps rows to messages and sends them, observed, with these settings. */
    OutboxMessages messages() {
        return new OutboxMessages(source, eventTypeNames, metadataProperties, propertiesCustomizer, registerSchemas,
                                  eventClasses, new PublishObservations(observationRegistry));
    }

    /** The default of {@code eventClasses}: the class of that name, from the thread's context class loader. */
    static Class<?> loadClass(String name) {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        try {
            return Class.forName(name, false, context != null ? context : PulsarOutboxPublisher.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("No class " + name, e);
        }
    }
}
