package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.capture.TraceParentProvider;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import io.github.pulsaroutbox.relay.TopicResolver;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.config.AggregateConfiguration;
import org.axonframework.config.Configuration;
import org.axonframework.config.Configurer;
import org.axonframework.config.ConfigurerModule;
import org.axonframework.eventhandling.PropagatingErrorHandler;
import org.axonframework.eventhandling.async.SequentialPerAggregatePolicy;
import org.axonframework.eventhandling.pooled.PooledStreamingEventProcessor;
import org.axonframework.lifecycle.Phase;
import org.axonframework.messaging.StreamableMessageSource;
import org.axonframework.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Consumer;

import static org.axonframework.common.BuilderUtils.assertNonNull;
import static org.axonframework.common.BuilderUtils.assertThat;

/**
 * The tailing dispatch mode: no outbox table; an Axon {@link PooledStreamingEventProcessor} reads the event store and
 * publishes the events of {@code @Outbox} aggregates to Pulsar through the same transport as the outbox-table mode
 * (same topics, key, properties, logical names), for event stores that cannot share the application's transaction
 * (Axon Server, an event store on another database).
 * <p>
 * Guarantees: the processor's token advances only after the broker acknowledged every event of its batch, so a crash
 * or a failed send re-sends from the last stored token; with broker deduplication and sequence ids derived from the
 * events' positions the broker drops what it stored already (effectively once, except late commits and retried dead
 * letters: at least once; consumers can deduplicate on {@code ce_id}). The events of one aggregate are handled by one
 * segment in stream order ({@link SequentialPerAggregatePolicy}), so each key's first deliveries are in aggregate
 * order when the store's positions follow aggregate sequences (not so for Hibernate's pooled {@code global_index}
 * with several appending instances; see docs/dispatch-modes.md, Limits); segments are claimed in Axon's {@code TokenStore}, so
 * several instances share the work and take over a dead instance's segments when its claims expire. Events are read
 * through the application's upcaster chain (older stored revisions arrive as the current class) and are not upcast
 * again. A new processor starts at the head of the store (publishing only events stored from then on) unless
 * {@link Builder#startPosition(StartPosition)} says {@link StartPosition#TAIL}. A failing batch is retried by the
 * processor with its back-off, holding up its segment only.
 * <p>
 * The token store must be transactional with the processor's transaction manager (Axon's JPA or JDBC token store on a
 * database with a transaction manager; Axon Framework 4 has no token store in Axon Server): the token is written in
 * the batch's transaction, which rolls back when a send fails.
 */
public final class EventStoreTailingModule implements ConfigurerModule {

    private static final Logger logger = LoggerFactory.getLogger(EventStoreTailingModule.class);

    /** The default name of the tailing processor (and its processing group and tokens). */
    public static final String DEFAULT_PROCESSOR_NAME = "pulsar-outbox-tailing";

    /** Where a processor without a stored token starts. */
    public enum StartPosition {
        /** At the head of the event store: only events stored from the first start on are published (default). */
        HEAD,
        /** At the tail: every event in the store is published, history included. */
        TAIL
    }

    private final Serializer serializer;
    private final OutboxPublisher publisher;
    private final TopicResolver topicResolver;
    private final TraceParentProvider traceParentProvider;
    private final List<Class<?>> explicitAggregates;
    private final String processorName;
    private final int segments;
    private final int batchSize;
    private final StartPosition startPosition;
    private final Duration ackTimeout;
    private final Consumer<PooledStreamingEventProcessor.Builder> processorCustomizer;
    private final boolean registerProcessor;
    private final Consumer<java.util.Collection<String>> topicCheck;
    private final TailingPublisher handler;

    private final boolean sequenced;
    private final OutboxPublisher streamPublisher;
    /** The processor's parts, built when Axon builds the processor. */
    private final TailingProcessorParts parts;
    /** The aggregate types published and their topics, resolved at start. */
    private final TailingTopics topics = new TailingTopics();

    private EventStoreTailingModule(Builder builder) {
        builder.validate();
        this.serializer = builder.serializer;
        this.publisher = builder.publisher;
        this.topicResolver = builder.topicResolver;
        this.traceParentProvider = builder.traceParentProvider;
        this.explicitAggregates = List.copyOf(builder.aggregates);
        this.topicCheck = builder.topicCheck;
        this.processorName = builder.processorName;
        this.segments = builder.segments;
        this.batchSize = builder.batchSize;
        this.startPosition = builder.startPosition;
        this.ackTimeout = builder.ackTimeout;
        this.processorCustomizer = builder.processorCustomizer;
        this.registerProcessor = builder.registerProcessor;
        this.parts = new TailingProcessorParts(processorName, builder.balanceHeartbeat);
        this.sequenced = builder.sequenceIds && publisher.supportsSequenceIds();
        // producer names of this processor's own: a replay under another processor name is not dropped as copies
        this.streamPublisher = sequenced ? publisher.forStream(processorName) : publisher;
        this.handler = new TailingPublisher(topics::captured, topics::topicOf, serializer, streamPublisher,
                                            traceParentProvider, ackTimeout, sequenced, processorName,
                                            parts::tokenStore, builder.maxAttempts, parts::committedToken);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void configureModule(Configurer configurer) {
        configurer.eventProcessing()
                  .registerEventHandler(config -> handler)
                  .assignHandlerInstancesMatching(processorName, Integer.MAX_VALUE, candidate -> candidate == handler)
                  .registerSequencingPolicy(processorName, config -> SequentialPerAggregatePolicy.instance())
                  .registerListenerInvocationErrorHandler(processorName, config -> PropagatingErrorHandler.instance())
                  .registerErrorHandler(processorName, config -> PropagatingErrorHandler.instance());
        org.axonframework.config.EventProcessingConfigurer.PooledStreamingProcessorConfiguration customization =
                (config, processor) -> {
                    TailingInvoker invoker = parts.build(config, processor, handler);
                    processor.eventHandlerInvoker(invoker)
                             // claims stay extended while a batch waits for its acknowledgements
                             .enableCoordinatorClaimExtension()
                             .batchSize(batchSize)
                             .initialSegmentCount(segments)
                             .initialToken(startPosition == StartPosition.TAIL
                                                   ? StreamableMessageSource::createTailToken
                                                   : StreamableMessageSource::createHeadToken);
                    processorCustomizer.accept(processor);
                    return processor;
                };
        if (registerProcessor) {
            configurer.eventProcessing()
                      .registerPooledStreamingEventProcessor(processorName, Configuration::eventStore, customization);
        } else { // registered elsewhere (Axon's processor properties in Spring Boot): their settings apply last
            configurer.eventProcessing().registerPooledStreamingEventProcessorConfiguration(processorName,
                                                                                            customization);
        }
        configurer.onInitialize(config -> {
            // before the processors start (inbound event connectors); the publisher closes after they stopped
            config.onStart(Phase.OUTBOUND_EVENT_CONNECTORS, () -> start(config));
            config.onShutdown(Phase.OUTBOUND_EVENT_CONNECTORS, () -> {
                parts.stop();
                if (streamPublisher != publisher) {
                    streamPublisher.close();
                }
                publisher.close();
            });
        });
    }

    /** The name of the tailing processor (its processing group and token owner name). */
    public String processorName() {
        return processorName;
    }

    /** Whether messages carry broker sequence ids derived from their position (effectively once with dedup). */
    public boolean sequenced() {
        return sequenced;
    }

    /**
     * The processor's dead-letter processor, when its processing group has a dead-letter queue (after the processor
     * was built): {@code process(filter)} publishes parked events again, in order per aggregate.
     */
    public java.util.Optional<org.axonframework.messaging.deadletter.SequencedDeadLetterProcessor<
            org.axonframework.eventhandling.EventMessage<?>>> deadLetterProcessor() {
        return parts.deadLetterProcessor();
    }

    /**
     * What this node's tailing publisher saw of the broker lately, for health checks: batches waiting for the broker
     * per segment ({@link RelayHealth#openingSince()}), failures since the last acknowledged batch. Never blocks.
     */
    public io.github.pulsaroutbox.relay.RelayHealth health() {
        return handler.watch().snapshot();
    }

    /**
     * The operator's actions on parked events (list, retry, discard), when the processing group has a dead-letter
     * queue (after the processor was built).
     */
    public java.util.Optional<io.github.pulsaroutbox.deadletter.ProcessingGroupDeadLetters> deadLetters() {
        return parts.deadLetters();
    }

    /** The aggregate types being published (empty before start). */
    public CapturedAggregates capturedAggregates() {
        return topics.captured();
    }

    private void start(Configuration config) {
        List<Class<?>> aggregateClasses = new ArrayList<>(explicitAggregates);
        for (AggregateConfiguration<?> aggregate : config.findModules(AggregateConfiguration.class)) {
            aggregateClasses.add(aggregate.aggregateType());
        }
        topics.resolve(aggregateClasses, topicResolver);
        if (sequenced) { // e.g. broker deduplication, the precondition of effectively once; it may fail the start
            topicCheck.accept(new TreeSet<>(topics.topics().values()));
        }
        // the processor is built now; its balancer starts before it does (inbound event connectors)
        parts.start(config);
        logger.info("Outbox tailing processor '{}' publishes the events of {} to {} (starting at the {} of the event "
                            + "store when it has no token)", processorName, new TreeSet<>(topics.captured().types()),
                    new TreeSet<>(topics.topics().values()), startPosition.name().toLowerCase());
    }

    /** Builds an {@link EventStoreTailingModule}; serializer, publisher and topic resolver are required. */
    public static final class Builder {

        private Serializer serializer;
        private OutboxPublisher publisher;
        private TopicResolver topicResolver;
        private TraceParentProvider traceParentProvider = TraceParentProvider.fromMetadata();
        private final List<Class<?>> aggregates = new ArrayList<>();
        private Consumer<java.util.Collection<String>> topicCheck = resolved -> {
        };
        private String processorName = DEFAULT_PROCESSOR_NAME;
        private int segments = 4;
        private int batchSize = 100;
        private StartPosition startPosition = StartPosition.HEAD;
        private Duration ackTimeout = Duration.ofSeconds(60);
        private Consumer<PooledStreamingEventProcessor.Builder> processorCustomizer = processor -> {
        };
        private boolean sequenceIds = true;
        private int maxAttempts = 10;
        private boolean registerProcessor = true;
        private Duration balanceHeartbeat = Duration.ofSeconds(2);

        private Builder() {
        }

        /** Serializes payloads and metadata to the JSON published (a {@code JacksonSerializer}). Required. */
        public Builder serializer(Serializer serializer) {
            assertNonNull(serializer, "serializer may not be null");
            this.serializer = serializer;
            return this;
        }

        /** The transport (e.g. {@code PulsarOutboxPublisher}); closed when Axon shuts down. Required. */
        public Builder publisher(OutboxPublisher publisher) {
            assertNonNull(publisher, "publisher may not be null");
            this.publisher = publisher;
            return this;
        }

        /** The topic of each aggregate type, resolved once at start. Required. */
        public Builder topicResolver(TopicResolver topicResolver) {
            assertNonNull(topicResolver, "topicResolver may not be null");
            this.topicResolver = topicResolver;
            return this;
        }

        /** The trace context sent with each event (default: its {@code traceparent} metadata). */
        public Builder traceParentProvider(TraceParentProvider traceParentProvider) {
            assertNonNull(traceParentProvider, "traceParentProvider may not be null");
            this.traceParentProvider = traceParentProvider;
            return this;
        }

        /** Aggregate classes to publish besides those configured in Axon (only {@code @Outbox} ones count). */
        public Builder aggregate(Class<?> aggregateClass) {
            assertNonNull(aggregateClass, "aggregateClass may not be null");
            this.aggregates.add(aggregateClass);
            return this;
        }

        /** The processor's name, also its processing group and the owner name of its tokens. */
        public Builder processorName(String processorName) {
            assertThat(processorName, n -> n != null && n.matches("[A-Za-z0-9._-]{1,100}"),
                       "processorName must be 1 to 100 letters, digits, '.', '_' or '-'");
            this.processorName = processorName;
            return this;
        }

        /** The number of segments the processor's token is split into when first created (default 4). */
        public Builder segments(int segments) {
            assertThat(segments, n -> n >= 1 && n <= 1024, "segments must be between 1 and 1024");
            this.segments = segments;
            return this;
        }

        /** Events per batch: one token update and one wait for acknowledgements per batch (default 100). */
        public Builder batchSize(int batchSize) {
            assertThat(batchSize, n -> n >= 1 && n <= 10_000, "batchSize must be between 1 and 10000");
            this.batchSize = batchSize;
            return this;
        }

        /** Where a processor without a stored token starts (default {@link StartPosition#HEAD}). */
        public Builder startPosition(StartPosition startPosition) {
            assertNonNull(startPosition, "startPosition may not be null");
            this.startPosition = startPosition;
            return this;
        }

        /** How long a batch waits for its acknowledgements before it fails and is retried (default 60 s). */
        public Builder ackTimeout(Duration ackTimeout) {
            assertThat(ackTimeout, d -> d != null && !d.isNegative() && !d.isZero(), "ackTimeout must be positive");
            this.ackTimeout = ackTimeout;
            return this;
        }

        /**
         * Whether to publish with broker sequence ids per processor segment when the publisher supports them (default
         * {@code true}): with broker deduplication on, a batch re-sent after a crash is dropped by the broker where it
         * stored it already (effectively once). The producers are named after the publisher's prefix and this
         * processor's name ({@code <prefix>-<processor>-<segment>}), so a second processor (a replay) is not dropped.
         */
        public Builder sequenceIds(boolean sequenceIds) {
            this.sequenceIds = sequenceIds;
            return this;
        }

        /**
         * How many times an event's sends may fail for a reason that may pass (other than a broker outage or a
         * timeout, which are retried until they end) before the event is given up on (default 10). Refusals that
         * retrying cannot fix (too large, rejected by the broker) are given up on at once. An event given up on is
         * parked in the processing group's dead-letter queue when it has one (Axon's
         * {@code registerDeadLetterQueue}, or {@code axon.eventhandling.processors.<name>.dlq.enabled} in Spring
         * Boot), with its aggregate's later events behind it, while other aggregates flow; without a queue its batch
         * fails and is retried.
         */
        public Builder maxAttempts(int maxAttempts) {
            assertThat(maxAttempts, n -> n >= 1, "maxAttempts must be positive");
            this.maxAttempts = maxAttempts;
            return this;
        }

        /**
         * Further settings of the processor, applied last (e.g. {@code maxClaimedSegments},
         * {@code tokenClaimInterval}, {@code maxSegmentProvider}).
         */
        public Builder processorCustomizer(Consumer<PooledStreamingEventProcessor.Builder> customizer) {
            assertNonNull(customizer, "processorCustomizer may not be null");
            this.processorCustomizer = customizer;
            return this;
        }

        /**
         * Whether this module registers the pooled streaming processor (default {@code true}); {@code false} when it
         * is registered elsewhere under the same name, e.g. by Axon's Spring Boot processor properties
         * ({@code axon.eventhandling.processors.<name>.mode=pooled}): the module then only configures it (its
         * invoker, batch size, segments and start), and the other registration's settings apply after these.
         */
        public Builder registerProcessor(boolean registerProcessor) {
            this.registerProcessor = registerProcessor;
            return this;
        }

        /**
         * How often each instance renews its presence and recomputes its fair share of the segments (default 2 s);
         * {@code null} turns balancing off (each instance then claims every segment it can, as Axon's processor does
         * by default). Keep it well below the token store's claim timeout (10 s by default): an instance whose
         * presence claim expires is counted as gone.
         */
        public Builder balanceHeartbeat(Duration heartbeat) {
            assertThat(heartbeat, d -> d == null || (!d.isNegative() && !d.isZero()),
                       "balanceHeartbeat must be positive, or null for no balancing");
            this.balanceHeartbeat = heartbeat;
            return this;
        }

        /**
         * Checks the resolved topics at start when events are published with sequence ids, for example
         * {@link io.github.pulsaroutbox.pulsar.DeduplicationCheck} (default: none). It may fail the start by throwing.
         */
        public Builder topicCheck(Consumer<java.util.Collection<String>> topicCheck) {
            assertNonNull(topicCheck, "topicCheck may not be null");
            this.topicCheck = topicCheck;
            return this;
        }

        public EventStoreTailingModule build() {
            return new EventStoreTailingModule(this);
        }

        void validate() throws AxonConfigurationException {
            assertNonNull(serializer, "The Serializer is a hard requirement and should be provided");
            assertNonNull(publisher, "The OutboxPublisher is a hard requirement and should be provided");
            assertNonNull(topicResolver, "The TopicResolver is a hard requirement and should be provided");
            int maxPending = publisher.maxPendingSends(); // 0 or less: no such limit
            if (maxPending > 0 && batchSize > maxPending) {
                throw new AxonConfigurationException(
                        "The tailing batchSize (" + batchSize + ") must not exceed the publisher's maxPendingMessages ("
                                + maxPending + "): a batch's sends wait for their acknowledgements together, and "
                                + "sends past a full producer queue are refused, so such a batch could never complete. "
                                + "Lower batchSize or raise maxPendingMessages");
            }
        }
    }
}
