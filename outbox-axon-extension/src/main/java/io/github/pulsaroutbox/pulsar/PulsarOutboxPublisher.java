package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.ProducerBuilder;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.axonframework.common.AxonConfigurationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

import static org.axonframework.common.BuilderUtils.assertNonNull;
import static org.axonframework.common.BuilderUtils.assertThat;

/**
 * Publishes outbox rows to Apache Pulsar through the application's {@link PulsarClient}.
 * <p>
 * Without segments ({@link #publish(OutboxEntry, String)}): one producer per topic, created on first use and reused;
 * its key-based batching and Murmur3 key hashing keep each key on one partition and in order, also for Key_Shared
 * consumers and consumers in other languages. With segments ({@link #openSession}, the relay's default): per segment
 * and topic one unbatched producer per partition, named {@code <prefix>-<segment>} (stable, so the broker's
 * deduplication state follows the segment across nodes and restarts), each message with the relay's sequence id, keys
 * routed to partitions with the same Murmur3 hash. Each message: key = aggregate id, value = payload JSON (UTF-8),
 * event time = event timestamp, properties as in {@link OutboxMessageProperties}. The returned future completes when
 * the broker acknowledged the message.
 * <p>
 * Its parts: {@code OutboxMessages} maps a row to a message and sends it (observed), {@code TopicProducers} keeps the
 * shared producers per topic, {@code SegmentProducers} the named producers of the segment sessions, and
 * {@code PulsarFailures} says what a failure of the client means for the row; {@code PublisherSettings} holds the
 * settings and builds the producers.
 */
public final class PulsarOutboxPublisher implements OutboxPublisher {

    private static final Logger logger = LoggerFactory.getLogger(PulsarOutboxPublisher.class);
    /**
     * Axon metadata sent as message properties by default: the correlation id, and Axon's {@code traceId} (the
     * identifier of the message that caused this one) as the causation id.
     */
    public static final Map<String, String> DEFAULT_METADATA_PROPERTIES = Map.of(
            "correlationId", OutboxMessageProperties.CORRELATION_ID, "traceId", OutboxMessageProperties.CAUSATION_ID);

    private final PublisherSettings settings;
    private final OutboxMessages messages;
    private final TopicProducers producers;
    private final SegmentProducers segmentProducers;

    private PulsarOutboxPublisher(Builder builder) {
        builder.validate();
        this.settings = new PublisherSettings(
                builder.client, builder.source, builder.sendTimeout, builder.batching, builder.batchingMaxPublishDelay,
                builder.maxPendingMessages, builder.producerCustomizer, builder.registerSchemas, builder.eventClasses,
                builder.producerNamePrefix != null ? builder.producerNamePrefix : builder.source,
                builder.eventTypeNames, builder.metadataProperties, builder.propertiesCustomizer,
                builder.observationRegistry);
        this.messages = settings.messages();
        this.producers = new TopicProducers(settings::newProducer, settings.sendTimeout());
        this.segmentProducers = new SegmentProducers(settings.client(), settings::newProducer,
                                                     settings.producerNamePrefix());
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Sends through the topic's shared producer. The producer is created on first use without blocking the caller;
     * a creation that failed for a reason retrying may fix (the broker unreachable, a lookup that timed out) is
     * remembered for the topic (its sends fail at once with that failure) until it may be tried again, backing off
     * from 1 second up to 30 seconds, so that an unreachable topic never holds up others.
     */
    @Override
    public CompletableFuture<?> publish(OutboxEntry entry, String topic) {
        CompletableFuture<Producer<byte[]>> producer = producers.producer(topic);
        // sends chained on a pending creation may run in any order once it completes: the relay never has two
        // unacknowledged sends of one aggregate unless a failure fails every later send (failsLaterSendsAfterAFailure)
        return producer.thenCompose(used -> messages.send(used, entry, topic).whenComplete((id, error) -> {
            if (error != null && PulsarFailures.producerIsGone(error)) {
                producers.evict(topic, used);
            }
        }));
    }

    /**
     * A publisher with the same client and settings whose segment producers are named
     * {@code <producerNamePrefix>-<stream>-<segment>}; it has producers of its own (close it separately).
     */
    @Override
    public PulsarOutboxPublisher forStream(String stream) {
        PublisherSettings s = settings;
        return builder().pulsarClient(s.client()).source(s.source()).sendTimeout(s.sendTimeout())
                        .batching(s.batching()).batchingMaxPublishDelay(s.batchingMaxPublishDelay())
                        .maxPendingMessages(s.maxPendingMessages()).producerCustomizer(s.producerCustomizer())
                        .registerSchemas(s.registerSchemas()).eventClasses(s.eventClasses())
                        .eventTypeNames(s.eventTypeNames()).metadataProperties(s.metadataProperties())
                        .propertiesCustomizer(s.propertiesCustomizer()).observationRegistry(s.observationRegistry())
                        .producerNamePrefix(s.producerNamePrefix() + "-" + stream)
                        .build();
    }

    /** Completes when the topic's shared producer exists (created now if needed), or fails as its creation did. */
    @Override
    public CompletableFuture<Void> prepare(String topic) {
        return producers.producer(topic).thenApply(producer -> null);
    }

    /**
     * Sends through the producer of the segment's session for the topic, with the given sequence id. Without an open
     * session (never opened, or its producer was closed, fenced or its topic terminated) the send fails: the relay
     * opens a new session, which tells it what the broker stored, before it sends again.
     */
    @Override
    public CompletableFuture<?> publish(OutboxEntry entry, String topic, int segment, long sequenceId) {
        List<Producer<byte[]>> partitions = segmentProducers.partitions(segment, topic);
        if (partitions == null) {
            return CompletableFuture.failedFuture(new PulsarClientException.AlreadyClosedException(
                    "No open outbox producer for topic " + topic + " and segment " + segment));
        }
        Producer<byte[]> producer = partitions.get(SegmentProducers.partitionOf(entry.aggregateId(),
                                                                                partitions.size()));
        return messages.send(producer, entry, topic, sequenceId).whenComplete((id, error) -> {
            if (error != null && PulsarFailures.producerIsGone(error)) {
                segmentProducers.closeSession(segment, topic, partitions);
            }
        });
    }

    @Override
    public boolean supportsSequenceIds() {
        return true;
    }

    /**
     * Closes the segment's producers for the topic, if open, and creates new ones named
     * {@code <producerNamePrefix>-<segment>} (one per partition), without blocking: the broker refuses them while
     * another process's producer holds the name (a second fence, besides the segment's claim), and answers with the
     * last sequence id it stored under the name. Producers created after the segment was closed meanwhile are closed
     * again, and the future fails.
     */
    @Override
    public CompletableFuture<Session> openSession(String topic, int segment) {
        return segmentProducers.openSession(topic, segment);
    }

    /**
     * Closes the segment's producers without blocking; a session opened for the segment afterwards waits until they
     * are closed, so that the broker does not refuse the name as still in use.
     */
    @Override
    public void closeSegment(int segment) {
        segmentProducers.closeSegment(segment);
    }

    @Override
    public int maxPendingSends() {
        return settings.maxPendingMessages();
    }

    @Override
    public Optional<Duration> sendTimeout() {
        Duration sendTimeout = settings.sendTimeout();
        return sendTimeout.isZero() ? Optional.empty() : Optional.of(sendTimeout);
    }

    /**
     * False: the broker can reject one message alone while later ones on the same producer are persisted (a topic's
     * {@code max-message-size} policy answers {@code NotAllowed} for that message only; with schema registration a
     * message's new schema can be rejected), so the relay keeps one unacknowledged send per aggregate. Measured with
     * the benchmark (docs/benchmarks.md): the relay drains as fast within the noise as with pipelining per aggregate
     * when many aggregates are pending, because one row of each is in flight at once.
     */
    @Override
    public boolean failsLaterSendsAfterAFailure() {
        return false;
    }

    /** See {@code PulsarFailures#classify}: what retrying can do about a failure of the client. */
    @Override
    public FailureKind classify(Throwable failure) {
        return PulsarFailures.classify(failure);
    }

    /**
     * Failures the client raises before a message is written to the broker: its own size and message checks, a full
     * queue, a closed producer (or no open session).
     */
    @Override
    public boolean neverSent(Throwable failure) {
        return PulsarFailures.neverSent(failure);
    }

    @Override
    public void close() {
        List<CompletableFuture<?>> closing = new ArrayList<>(segmentProducers.closeAll());
        closing.addAll(producers.closeAll());
        try {
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            logger.warn("Closing the outbox producers did not complete: {}", e.toString());
        }
    }

    /**
     * Builds a {@link PulsarOutboxPublisher}. Required: {@link #pulsarClient}. Defaults: source
     * {@code pulsar-outbox}, send timeout 30 s, key-based batching on with 1 ms max delay, 1000 pending messages per
     * producer.
     */
    public static final class Builder {
        private PulsarClient client;
        private String source = "pulsar-outbox";
        private Duration sendTimeout = Duration.ofSeconds(30);
        private boolean batching = true;
        private Duration batchingMaxPublishDelay = Duration.ofMillis(1);
        private int maxPendingMessages = 1000;
        private Consumer<ProducerBuilder<byte[]>> producerCustomizer = b -> {
        };
        private boolean registerSchemas = false;
        private Function<String, Class<?>> eventClasses = PublisherSettings::loadClass;
        private String producerNamePrefix;
        private Function<String, String> eventTypeNames = io.github.pulsaroutbox.EventTypeNames.defaults();
        private Map<String, String> metadataProperties = DEFAULT_METADATA_PROPERTIES;
        private MessagePropertiesCustomizer propertiesCustomizer = (entry, properties) -> {
        };
        private io.micrometer.observation.ObservationRegistry observationRegistry =
                io.micrometer.observation.ObservationRegistry.NOOP;

        private Builder() {
        }

        /** The application's client (reused, never closed here). Required. */
        public Builder pulsarClient(PulsarClient client) {
            assertNonNull(client, "PulsarClient may not be null");
            this.client = client;
            return this;
        }

        /** The CloudEvents {@code source} set on every message. */
        public Builder source(String source) {
            assertThat(source, s -> s != null && !s.isBlank(), "source may not be blank");
            this.source = source;
            return this;
        }

        /**
         * The producer's send timeout (default 30 s); {@link Duration#ZERO} for none, as in Pulsar (the relay's ack
         * timeout still bounds every send).
         */
        public Builder sendTimeout(Duration sendTimeout) {
            assertThat(sendTimeout, d -> d != null && !d.isNegative(), "sendTimeout may not be negative");
            this.sendTimeout = sendTimeout;
            return this;
        }

        /**
         * The prefix of the stable producer names ({@code <prefix>-<segment>}) used when the relay owns segments
         * (default: the {@link #source(String)}). It must be the same on every replica of a service, stay the same
         * across restarts (the broker's deduplication state is kept per producer name), and differ from the names
         * of any other service's producers on the same topics.
         */
        public Builder producerNamePrefix(String producerNamePrefix) {
            assertThat(producerNamePrefix, p -> p != null && p.matches("[A-Za-z0-9._:-]{1,100}"),
                       "producerNamePrefix must be 1 to 100 letters, digits, '.', '_', ':' or '-'");
            this.producerNamePrefix = producerNamePrefix;
            return this;
        }

        /**
         * The logical event type names sent as {@code ce_type}, from the stored payload type name (the class name);
         * default {@link io.github.pulsaroutbox.EventTypeNames#defaults()}: {@code @Outbox.EventType}, else the
         * class's simple name.
         */
        public Builder eventTypeNames(Function<String, String> eventTypeNames) {
            assertNonNull(eventTypeNames, "eventTypeNames may not be null");
            this.eventTypeNames = eventTypeNames;
            return this;
        }

        /**
         * Which Axon metadata entries are sent, as which message property: metadata key to property name (default
         * {@link #DEFAULT_METADATA_PROPERTIES}: {@code correlationId} as {@code ce_correlationid}, {@code traceId} as
         * {@code ce_causationid}). Entries not listed stay inside the service; an empty map sends none.
         */
        public Builder metadataProperties(Map<String, String> metadataProperties) {
            assertNonNull(metadataProperties, "metadataProperties may not be null");
            metadataProperties.forEach((key, property) -> assertThat(
                    property, p -> p != null && p.matches("[A-Za-z0-9_.-]{1,100}")
                            && !p.startsWith("ce_spec") && !p.equals(OutboxMessageProperties.ID)
                            && !p.equals(OutboxMessageProperties.TYPE),
                    "metadata property name for '" + key + "' must be 1 to 100 letters, digits, '_', '.' or '-' and "
                            + "not one the outbox sets itself"));
            this.metadataProperties = Map.copyOf(metadataProperties);
            return this;
        }

        /** Changes each message's properties last (add, remove, rename), e.g. for further metadata. */
        public Builder propertiesCustomizer(MessagePropertiesCustomizer customizer) {
            assertNonNull(customizer, "propertiesCustomizer may not be null");
            this.propertiesCustomizer = customizer;
            return this;
        }

        /**
         * Observes each send through Micrometer Observation (default: no-op, nothing observed): with a tracing
         * bridge, a consumer span {@code pulsar.outbox.relay} continues the trace stored with the row and a producer
         * span {@code pulsar.outbox.send}, its child, covers the send until the broker's acknowledgement; the message's
         * {@code traceparent} then names the producer span. With a meter handler, both yield timers tagged with the
         * topic and aggregate type.
         */
        public Builder observationRegistry(io.micrometer.observation.ObservationRegistry observationRegistry) {
            assertNonNull(observationRegistry, "observationRegistry may not be null");
            this.observationRegistry = observationRegistry;
            return this;
        }

        /** Key-based batching on or off (default on). */
        public Builder batching(boolean batching) {
            this.batching = batching;
            return this;
        }

        public Builder batchingMaxPublishDelay(Duration delay) {
            assertThat(delay, d -> d != null && !d.isNegative(), "batchingMaxPublishDelay may not be negative");
            this.batchingMaxPublishDelay = delay;
            return this;
        }

        public Builder maxPendingMessages(int maxPendingMessages) {
            assertThat(maxPendingMessages, n -> n > 0, "maxPendingMessages must be positive");
            this.maxPendingMessages = maxPendingMessages;
            return this;
        }

        /**
         * Registers the JSON schema of each event type in Pulsar's schema registry for its topic and sends each
         * message with it (default off: messages are plain bytes). The schema is derived from the event class
         * ({@code eventClasses}, by default {@code Class.forName} of the type name). The broker checks each new
         * schema against the topic's compatibility strategy; a rejection parks the row.
         */
        public Builder registerSchemas(boolean registerSchemas) {
            this.registerSchemas = registerSchemas;
            return this;
        }

        /** Resolves event type names to classes, for {@link #registerSchemas(boolean)}. */
        public Builder eventClasses(Function<String, Class<?>> eventClasses) {
            assertNonNull(eventClasses, "eventClasses may not be null");
            this.eventClasses = eventClasses;
            return this;
        }

        /** Further producer settings (applied last), e.g. authentication-related or compression. */
        public Builder producerCustomizer(Consumer<ProducerBuilder<byte[]>> customizer) {
            assertNonNull(customizer, "producerCustomizer may not be null");
            this.producerCustomizer = customizer;
            return this;
        }

        public PulsarOutboxPublisher build() {
            return new PulsarOutboxPublisher(this);
        }

        void validate() throws AxonConfigurationException {
            assertNonNull(client, "The PulsarClient is a hard requirement and should be provided");
        }
    }
}
