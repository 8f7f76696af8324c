package io.github.pulsaroutbox;

import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.Configuration;
import org.axonframework.config.Configurer;
import org.axonframework.config.ConfigurerModule;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.capture.TraceParentProvider;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.operations.OutboxOperations;
import io.github.pulsaroutbox.relay.BackoffFailurePolicy;
import io.github.pulsaroutbox.relay.EntryUpcaster;
import io.github.pulsaroutbox.relay.FailurePolicy;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.relay.SegmentClaims;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import io.github.pulsaroutbox.relay.TopicResolver;
import io.github.pulsaroutbox.retention.OutboxRetention;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import io.github.pulsaroutbox.store.OutboxStore;
import io.github.pulsaroutbox.upcasting.AxonEntryUpcaster;
import org.axonframework.lifecycle.Phase;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.json.JacksonSerializer;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import static org.axonframework.common.BuilderUtils.assertNonNull;

/**
 * Registers the outbox on an Axon {@link Configurer}: the capture interceptor on the event store and the relay's
 * life cycle. The Spring Boot autoconfiguration registers one as a bean; without Spring, call
 * {@link #configureModule(Configurer)} yourself:
 * <pre>{@code
 * OutboxConfigurerModule outbox = OutboxConfigurerModule.builder()
 *         .store(JdbcOutboxStore.builder().connectionProvider(connectionProvider).build())
 *         .serializer(JacksonSerializer.defaultSerializer())
 *         .publisher(PulsarOutboxPublisher.builder().pulsarClient(pulsarClient).build())
 *         .topicResolver(PulsarTopicResolver.builder().map("Order", "orders").build())
 *         .transactionManager(transactionManager)
 *         .build();
 * outbox.configureModule(configurer);
 * }</pre>
 * On start (phase {@link Phase#OUTBOUND_EVENT_CONNECTORS}, before command handlers subscribe) it collects the
 * {@link Outbox}-annotated aggregates of the configuration, checks that each has a topic (failing the start with
 * an {@link AxonConfigurationException} naming the aggregate otherwise), registers the interceptor on the event
 * store and starts the relay. On shutdown it stops the relay after inbound components stopped, then closes the
 * publisher.
 */
public final class OutboxConfigurerModule implements ConfigurerModule {

    private static final org.slf4j.Logger logger = org.slf4j.LoggerFactory.getLogger(OutboxConfigurerModule.class);

    private final OutboxStore store;
    private final Serializer serializer;
    private final OutboxPublisher publisher;
    private final boolean relayEnabled;
    private final OutboxRelay relay;
    private final Runnable schemaInitializer;
    private final OutboxMetrics metrics;
    private final TraceParentProvider traceParentProvider;
    private final OutboxOperations operations;
    private final OutboxRetention retention;
    private final ModuleCapture capture;

    private final boolean upcastingEnabled;
    private final Consumer<AxonEntryUpcaster.Builder> upcastingCustomizer;

    private volatile EntryUpcaster upcaster = EntryUpcaster.NONE;
    private volatile TokenStore tokenStore;
    private final Consumer<java.util.Collection<String>> topicCheck;

    private OutboxConfigurerModule(Builder builder) {
        builder.validate();
        this.store = builder.store;
        this.serializer = builder.serializer;
        this.publisher = builder.publisher;
        this.relayEnabled = builder.relayEnabled;
        this.capture = new ModuleCapture(builder.aggregates, builder.topicResolver);
        this.schemaInitializer = builder.schemaInitializer;
        this.metrics = builder.metrics;
        this.traceParentProvider = builder.traceParentProvider;
        this.upcastingEnabled = builder.upcastingEnabled;
        this.upcastingCustomizer = builder.upcastingCustomizer;
        this.topicCheck = builder.topicCheck;
        ModuleParts parts = ModuleParts.wire(builder, capture::captured, () -> upcaster, this::tokenStore);
        this.relay = parts.relay();
        this.operations = parts.operations();
        this.retention = parts.retention();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void configureModule(Configurer configurer) {
        configurer.onInitialize(config -> {
            config.onStart(Phase.OUTBOUND_EVENT_CONNECTORS, () -> start(config));
            config.onShutdown(Phase.OUTBOUND_EVENT_CONNECTORS, this::shutdown);
        });
    }

    /** The relay (for operations and tests). */
    public OutboxRelay relay() {
        return relay;
    }

    /** The outbox store. */
    public OutboxStore store() {
        return store;
    }

    /** The operator's actions, when the store supports them ({@link OutboxMaintenance}). */
    public Optional<OutboxOperations> operations() {
        return Optional.ofNullable(operations);
    }

    /** The retention job, when enabled. */
    public Optional<OutboxRetention> retention() {
        return Optional.ofNullable(retention);
    }

    /** The aggregate types being captured (empty before start). */
    public CapturedAggregates capturedAggregates() {
        return capture.captured();
    }

    private void start(Configuration config) {
        ModuleCapture.Resolved resolved = capture.resolve(config);
        schemaInitializer.run();
        store.verifySchema();
        if (upcastingEnabled) {
            upcaster = ModuleParts.upcaster(serializer, config.upcasterChain(), upcastingCustomizer);
        }
        capture.activate(resolved, config, store, serializer, relay::wakeUp, traceParentProvider, metrics);
        java.util.Map<String, String> topics = resolved.topics();
        relay.segmentClaims().ifPresent(claims -> tokenStore = config.getComponent(TokenStore.class,
                                                                                   InMemoryTokenStore::new));
        if (relayEnabled) {
            if (relay.segmentClaims().isPresent() && publisher.supportsSequenceIds()) {
                topicCheck.accept(new java.util.TreeSet<>(topics.values())); // e.g. broker deduplication, the precondition of effectively once
            }
            if (tokenStore instanceof InMemoryTokenStore) {
                logger.warn("The outbox relay claims its segments in an in-memory token store: other nodes cannot "
                                    + "see the claims. Run a single node, or configure a JPA or JDBC token store on the "
                                    + "application's database");
            }
            relay.start();
        } else { // rows written here must land in segments the relays read
            relay.segmentClaims().ifPresent(SegmentClaims::checkSegmentCount);
        }
        if (retention != null) {
            retention.start();
        }
    }

    /** The token store segments are claimed in (set when the relay starts). */
    private TokenStore tokenStore() {
        TokenStore current = tokenStore;
        if (current == null) {
            throw new IllegalStateException("The outbox module has not started: no token store yet");
        }
        return current;
    }

    /** What brings rows to their current version (before start: publishes rows as captured). */
    public EntryUpcaster upcaster() {
        return upcaster;
    }

    private void shutdown() {
        if (retention != null) {
            retention.shutdown();
        }
        relay.shutdown();
        // The capture interceptor stays registered: a unit of work still running (or started by a component that
        // stops later) must not commit events without their outbox rows. Its rows wait for the next relay.
        publisher.close();
    }

    /**
     * Builds an {@link OutboxConfigurerModule}. Required: {@link #store}, {@link #serializer}, {@link #publisher},
     * {@link #topicResolver}, {@link #transactionManager} (not {@link NoTransactionManager}). Defaults: relay enabled,
     * aggregates taken from the Axon configuration, no schema creation.
     */
    public static final class Builder {
        OutboxStore store;
        Serializer serializer;
        OutboxPublisher publisher;
        TopicResolver topicResolver;
        TransactionManager transactionManager = NoTransactionManager.instance();
        boolean relayEnabled = true;
        final List<Class<?>> aggregates = new ArrayList<>();
        Consumer<OutboxRelay.Builder> relayCustomizer = b -> {
        };
        boolean segmentClaims = true;
        Consumer<java.util.Collection<String>> topicCheck = topics -> {
        };
        Consumer<SegmentClaims.Builder> claimsCustomizer = b -> {
        };
        Runnable schemaInitializer = () -> {
        };
        FailurePolicy failurePolicy = BackoffFailurePolicy.defaults();
        OutboxMetrics metrics = OutboxMetrics.NOOP;
        TraceParentProvider traceParentProvider = TraceParentProvider.fromMetadata();
        OutboxMaintenance maintenance;
        boolean retentionEnabled = false;
        boolean upcastingEnabled = true;
        Consumer<AxonEntryUpcaster.Builder> upcastingCustomizer = b -> {
        };
        Consumer<OutboxRetention.Builder> retentionCustomizer = b -> {
        };

        private Builder() {
        }

        /** Where outbox rows are stored; must use the event store's connections/transactions. Required. */
        public Builder store(OutboxStore store) {
            assertNonNull(store, "OutboxStore may not be null");
            this.store = store;
            return this;
        }

        /**
         * Serializes payloads and metadata to JSON; a {@link JacksonSerializer} (typically the application's event
         * serializer, so revisions resolve as in the event store). Required.
         */
        public Builder serializer(Serializer serializer) {
            assertNonNull(serializer, "Serializer may not be null");
            this.serializer = serializer;
            return this;
        }

        /** The transport. Required. */
        public Builder publisher(OutboxPublisher publisher) {
            assertNonNull(publisher, "OutboxPublisher may not be null");
            this.publisher = publisher;
            return this;
        }

        /** Maps aggregate types to topics. Required. */
        public Builder topicResolver(TopicResolver topicResolver) {
            assertNonNull(topicResolver, "TopicResolver may not be null");
            this.topicResolver = topicResolver;
            return this;
        }

        /**
         * The application's transaction manager, the one Axon's unit of work and event store use. Required: capture
         * is atomic only inside that transaction.
         */
        public Builder transactionManager(TransactionManager transactionManager) {
            assertNonNull(transactionManager, "TransactionManager may not be null");
            this.transactionManager = transactionManager;
            return this;
        }

        /** Whether this node runs the relay (capture always runs). Default true. */
        public Builder relayEnabled(boolean relayEnabled) {
            this.relayEnabled = relayEnabled;
            return this;
        }

        /** Aggregate classes to consider in addition to those registered on the Axon configuration. */
        public Builder aggregates(Class<?>... aggregateClasses) {
            this.aggregates.addAll(List.of(aggregateClasses));
            return this;
        }

        /** Tunes the relay (batch size, poll interval, ...). */
        public Builder relay(Consumer<OutboxRelay.Builder> customizer) {
            assertNonNull(customizer, "relay customizer may not be null");
            this.relayCustomizer = customizer;
            return this;
        }

        /**
         * Whether the relay claims segments in the Axon configuration's {@link TokenStore} (default true): then every
         * node may run it, each relays its share of the segments, and rows are sent with persisted broker sequence
         * ids. Off: this relay sends every segment, without sequence ids; run it on one node only.
         */
        public Builder segmentClaims(boolean segmentClaims) {
            this.segmentClaims = segmentClaims;
            return this;
        }

        /**
         * Checks the outbox topics when the relay starts with segment claims, e.g. a
         * {@link io.github.pulsaroutbox.pulsar.DeduplicationCheck} (default: none). It may fail the start by throwing.
         */
        public Builder topicCheck(Consumer<java.util.Collection<String>> topicCheck) {
            assertNonNull(topicCheck, "topicCheck may not be null");
            this.topicCheck = topicCheck;
            return this;
        }

        /** Tunes the segment claims (processor name, claim timeout, node id); the token store is Axon's. */
        public Builder segmentClaims(Consumer<SegmentClaims.Builder> customizer) {
            assertNonNull(customizer, "segment claims customizer may not be null");
            this.claimsCustomizer = customizer;
            return this;
        }

        /** Run on start before capture begins, e.g. {@code store::createSchema}. */
        public Builder schemaInitializer(Runnable schemaInitializer) {
            assertNonNull(schemaInitializer, "schemaInitializer may not be null");
            this.schemaInitializer = schemaInitializer;
            return this;
        }

        /** What happens after a failed attempt (default: {@link BackoffFailurePolicy#defaults()}). */
        public Builder failurePolicy(FailurePolicy failurePolicy) {
            assertNonNull(failurePolicy, "FailurePolicy may not be null");
            this.failurePolicy = failurePolicy;
            return this;
        }

        /** Where capture, relay, operations and retention report (default: nowhere). */
        public Builder metrics(OutboxMetrics metrics) {
            assertNonNull(metrics, "OutboxMetrics may not be null");
            this.metrics = metrics;
            return this;
        }

        /**
         * Finds the trace context stored with each row (default: the event's {@code traceparent} metadata, as
         * Axon's OpenTelemetry integration writes it).
         */
        public Builder traceParentProvider(TraceParentProvider traceParentProvider) {
            assertNonNull(traceParentProvider, "TraceParentProvider may not be null");
            this.traceParentProvider = traceParentProvider;
            return this;
        }

        /** Operator actions and retention on the table (default: the store, when it implements it). */
        public Builder maintenance(OutboxMaintenance maintenance) {
            assertNonNull(maintenance, "OutboxMaintenance may not be null");
            this.maintenance = maintenance;
            return this;
        }

        /**
         * Whether rows are brought to the current version of their event type before they are sent (default: on),
         * with the application's event-store upcasters ({@code Configuration#upcasterChain()}) first.
         */
        public Builder upcasting(boolean enabled) {
            this.upcastingEnabled = enabled;
            return this;
        }

        /**
         * Adds to the upcasting after the application's upcasters: {@link PublishedEventUpcaster}s for the published
         * contract only, and configured current versions, e.g.
         * {@code .upcasting(u -> u.upcaster(toV4).currentVersion("com.acme.OrderPlaced", "4"))}.
         */
        public Builder upcasting(Consumer<AxonEntryUpcaster.Builder> customizer) {
            assertNonNull(customizer, "upcasting customizer may not be null");
            this.upcastingCustomizer = customizer;
            return this;
        }

        /** Runs the retention job (off by default), tuned by {@code customizer}. */
        public Builder retention(Consumer<OutboxRetention.Builder> customizer) {
            assertNonNull(customizer, "retention customizer may not be null");
            this.retentionEnabled = true;
            this.retentionCustomizer = customizer;
            return this;
        }

        public OutboxConfigurerModule build() {
            return new OutboxConfigurerModule(this);
        }

        void validate() throws AxonConfigurationException {
            assertNonNull(store, "The OutboxStore is a hard requirement and should be provided");
            if (transactionManager instanceof NoTransactionManager) {
                throw new AxonConfigurationException(
                        "The outbox needs the application's TransactionManager (the one Axon's unit of work and event "
                                + "store use): without a transaction, outbox rows would commit on their own, whatever "
                                + "happens to the events");
            }
            assertNonNull(serializer, "The Serializer is a hard requirement and should be provided");
            assertNonNull(publisher, "The OutboxPublisher is a hard requirement and should be provided");
            assertNonNull(topicResolver, "The TopicResolver is a hard requirement and should be provided");
            if (!(serializer instanceof JacksonSerializer)) {
                throw new AxonConfigurationException(
                        "The outbox stores payloads as JSON and needs a JacksonSerializer, got "
                                + serializer.getClass().getName());
            }
        }
    }
}
