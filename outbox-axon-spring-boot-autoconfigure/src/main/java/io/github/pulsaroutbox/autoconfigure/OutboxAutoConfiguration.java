package io.github.pulsaroutbox.autoconfigure;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.eventhandling.tokenstore.jdbc.TokenSchema;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.common.transaction.TransactionManager;
import io.github.pulsaroutbox.OutboxConfigurerModule;
import io.micrometer.tracing.Tracer;
import io.github.pulsaroutbox.capture.MicrometerTraceParentProvider;
import io.github.pulsaroutbox.capture.TraceParentProvider;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.metrics.OutboxStatistics;
import io.github.pulsaroutbox.operations.OutboxOperations;
import io.github.pulsaroutbox.relay.BackoffFailurePolicy;
import io.github.pulsaroutbox.relay.FailurePolicy;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import io.github.pulsaroutbox.upcasting.PublishedEventUpcaster;
import io.github.pulsaroutbox.pulsar.DeduplicationSettings;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.pulsar.PulsarTopicResolver;
import io.github.pulsaroutbox.pulsar.PulsarTopics;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import io.github.pulsaroutbox.relay.TopicResolver;
import io.github.pulsaroutbox.store.OutboxStore;
import io.github.pulsaroutbox.store.TokenTable;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.autoconfigure.pulsar.PulsarAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.jdbc.EmbeddedDatabaseConnection;
import org.springframework.boot.sql.init.DatabaseInitializationMode;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

import java.time.Clock;
import java.time.Duration;
import java.util.List;

import javax.sql.DataSource;

/**
 * Spring Boot autoconfiguration of the Pulsar outbox: store, topic resolver, Pulsar publisher and the
 * {@link OutboxConfigurerModule} that Axon's autoconfiguration applies to its {@code Configurer}. Every bean backs
 * off when the application defines its own. It reuses the application's {@code DataSource} (through Axon's
 * {@link ConnectionProvider}), Axon {@link TransactionManager}, event {@link Serializer} (when it is Jackson) and
 * {@link PulsarClient}. Disabled by {@code pulsar-outbox.enabled=false}.
 */
@AutoConfiguration(
        after = {DataSourceAutoConfiguration.class, PulsarAutoConfiguration.class},
        afterName = {"org.axonframework.springboot.autoconfig.JdbcAutoConfiguration",
                "org.axonframework.springboot.autoconfig.AxonAutoConfiguration"})
@ConditionalOnClass({PulsarClient.class, org.axonframework.config.Configurer.class, DataSource.class})
@ConditionalOnProperty(prefix = "pulsar-outbox", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(OutboxProperties.class)
class OutboxAutoConfiguration {

    @org.springframework.context.annotation.Conditional(DispatchModeCondition.OutboxTable.class)
    @Bean
    @ConditionalOnMissingBean
    OutboxStore outboxStore(OutboxProperties properties, ObjectProvider<ConnectionProvider> connectionProvider,
                            ObjectProvider<DataSource> dataSource) {
        ConnectionProvider connections = connectionProvider.getIfAvailable(
                () -> new UnitOfWorkAwareConnectionProviderWrapper(
                        new SpringDataSourceConnectionProvider(requireDataSource(dataSource))));
        try {
            if (properties.segments() < 1 || properties.segments() > io.github.pulsaroutbox.OutboxSegments.MAX_COUNT) {
                throw new InvalidConfigurationPropertyValueException(
                        "pulsar-outbox.segments", properties.segments(),
                        "It must be between 1 and " + io.github.pulsaroutbox.OutboxSegments.MAX_COUNT);
            }
            return JdbcOutboxStore.builder().connectionProvider(connections).table(properties.table())
                                  .segmentCount(properties.segments()).build();
        } catch (AxonConfigurationException e) {
            throw new InvalidConfigurationPropertyValueException("pulsar-outbox.table", properties.table(),
                                                                 e.getMessage());
        }
    }

    @Bean
    @ConditionalOnMissingBean
    TopicResolver outboxTopicResolver(OutboxProperties properties) {
        PulsarTopicResolver.Builder builder = PulsarTopicResolver.builder();
        properties.topics().forEach((type, topic) -> {
            validateTopic("pulsar-outbox.topics." + type, topic);
            builder.map(type, topic);
        });
        if (properties.defaultTopic() != null) {
            validateTopic("pulsar-outbox.default-topic",
                          properties.defaultTopic().replace(PulsarTopicResolver.AGGREGATE_TYPE, "Aggregate"));
            builder.defaultTopicPattern(properties.defaultTopic());
        }
        return builder.build();
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxPublisher outboxPublisher(OutboxProperties properties, ObjectProvider<PulsarClient> pulsarClient,
                                    ObjectProvider<io.github.pulsaroutbox.pulsar.MessagePropertiesCustomizer> customizers,
                                    ObjectProvider<io.micrometer.observation.ObservationRegistry> observationRegistry,
                                    Environment environment) {
        PulsarClient client = pulsarClient.getIfAvailable(() -> {
            throw new IllegalStateException("The outbox needs a PulsarClient bean: add spring-boot-starter-pulsar "
                                                    + "(spring.pulsar.client.service-url) or define one");
        });
        OutboxProperties.Pulsar pulsar = properties.pulsar();
        String source = pulsar.source() != null ? pulsar.source()
                                                : environment.getProperty("spring.application.name", "pulsar-outbox");
        io.github.pulsaroutbox.EventTypeNames eventTypeNames;
        try {
            eventTypeNames = io.github.pulsaroutbox.EventTypeNames.withOverrides(properties.eventTypes());
        } catch (AxonConfigurationException e) {
            throw new InvalidConfigurationPropertyValueException("pulsar-outbox.event-types", properties.eventTypes(),
                                                                 e.getMessage());
        }
        List<io.github.pulsaroutbox.pulsar.MessagePropertiesCustomizer> messageCustomizers =
                customizers.orderedStream().toList();
        PulsarOutboxPublisher.Builder builder = PulsarOutboxPublisher.builder();
        if (pulsar.metadataProperties() != null) {
            try {
                builder.metadataProperties(pulsar.metadataProperties());
            } catch (AxonConfigurationException e) {
                throw new InvalidConfigurationPropertyValueException("pulsar-outbox.pulsar.metadata-properties",
                                                                     pulsar.metadataProperties(), e.getMessage());
            }
        }
        return builder.eventTypeNames(eventTypeNames)
                                    .propertiesCustomizer((entry, map) -> messageCustomizers.forEach(
                                            customizer -> customizer.customize(entry, map)))
                                    .pulsarClient(client)
                                    .observationRegistry(pulsar.observationsEnabled()
                                            ? observationRegistry.getIfAvailable(
                                                    () -> io.micrometer.observation.ObservationRegistry.NOOP)
                                            : io.micrometer.observation.ObservationRegistry.NOOP)
                                    .source(source)
                                    .sendTimeout(pulsar.sendTimeout())
                                    .batching(pulsar.batching())
                                    .batchingMaxPublishDelay(pulsar.batchingMaxPublishDelay())
                                    .maxPendingMessages(pulsar.maxPendingMessages())
                                    .registerSchemas(pulsar.registerSchemas())
                                    .producerNamePrefix(pulsar.producerNamePrefix() != null
                                                                ? pulsar.producerNamePrefix()
                                                                : source.replaceAll("[^A-Za-z0-9._:-]", "-"))
                                    .build();
    }

    /**
     * The relay's claim timeout: its own property, else Axon's token store claim timeout (they must agree: the
     * token store decides when a claim expires, the relay when to stop sending), else Axon's default of 10 s.
     */
    private static Duration claimTimeout(OutboxProperties.Relay relay, Environment environment) {
        Duration timeout = relay.claimTimeout() != null ? relay.claimTimeout()
                : environment.getProperty("axon.eventhandling.tokenstore.claim-timeout", Duration.class,
                                          Duration.ofSeconds(10));
        if (timeout.toMillis() < 500) {
            throw new InvalidConfigurationPropertyValueException("pulsar-outbox.relay.claim-timeout", timeout,
                                                                 "It must be at least 500 ms");
        }
        return timeout;
    }

    @org.springframework.context.annotation.Conditional(DispatchModeCondition.OutboxTable.class)
    @Bean
    @ConditionalOnMissingBean
    FailurePolicy outboxFailurePolicy(OutboxProperties properties) {
        OutboxProperties.Retry retry = properties.retry();
        BackoffFailurePolicy.Builder builder;
        try {
            builder = BackoffFailurePolicy.builder()
                                          .initialDelay(retry.initialDelay())
                                          .multiplier(retry.multiplier())
                                          .maxDelay(retry.maxDelay())
                                          .maxAttempts(retry.maxAttempts())
                                          .jitter(retry.jitter());
        } catch (AxonConfigurationException e) {
            throw new InvalidConfigurationPropertyValueException("pulsar-outbox.retry", retry, e.getMessage());
        }
        retry.outcomes().forEach(builder::outcome);
        return builder.build();
    }

    @org.springframework.context.annotation.Conditional(DispatchModeCondition.OutboxTable.class)
    @Bean
    @ConditionalOnMissingBean
    OutboxConfigurerModule outboxConfigurerModule(OutboxProperties properties,
                                                  OutboxStore store,
                                                  OutboxPublisher publisher,
                                                  TopicResolver topicResolver,
                                                  FailurePolicy failurePolicy,
                                                  @Qualifier("eventSerializer") ObjectProvider<Serializer> eventSerializer,
                                                  ObjectProvider<ObjectMapper> objectMapper,
                                                  ObjectProvider<TransactionManager> transactionManager,
                                                  ObjectProvider<DataSource> dataSource,
                                                  ObjectProvider<OutboxMetrics> metrics,
                                                  ObjectProvider<TraceParentProvider> traceParentProvider,
                                                  ObjectProvider<PublishedEventUpcaster> publishedEventUpcasters,
                                                  ObjectProvider<DeduplicationSettings> deduplicationSettings,
                                                  ObjectProvider<TokenSchema> tokenSchema,
                                                  Environment environment) {
        OutboxProperties.Relay relay = properties.relay();
        OutboxProperties.Retention retention = properties.retention();
        Duration sendTimeout = properties.pulsar().sendTimeout();
        if (!sendTimeout.isZero() && relay.ackTimeout().compareTo(sendTimeout) <= 0) {
            throw new InvalidConfigurationPropertyValueException(
                    "pulsar-outbox.relay.ack-timeout", relay.ackTimeout(),
                    "It must be longer than pulsar-outbox.pulsar.send-timeout (" + sendTimeout + "): otherwise the "
                            + "relay gives up on sends the producer is still retrying, and sends them again");
        }
        if (relay.maxInFlight() > properties.pulsar().maxPendingMessages()) {
            throw new InvalidConfigurationPropertyValueException(
                    "pulsar-outbox.relay.max-in-flight", relay.maxInFlight(),
                    "It must not exceed pulsar-outbox.pulsar.max-pending-messages ("
                            + properties.pulsar().maxPendingMessages() + "): a full producer queue would block the "
                            + "relay's thread, and with it every other topic and segment");
        }
        OutboxConfigurerModule.Builder builder =
                OutboxConfigurerModule.builder()
                                      .store(store)
                                      .publisher(publisher)
                                      .topicResolver(topicResolver)
                                      .failurePolicy(failurePolicy)
                                      .metrics(metrics.getIfAvailable(() -> OutboxMetrics.NOOP))
                                      .traceParentProvider(TraceParentProvider.fromMetadata().orElse(
                                              traceParentProvider.getIfAvailable(() -> event -> null)))
                                      .serializer(jsonSerializer(eventSerializer, objectMapper))
                                      .transactionManager(transactionManager.getIfAvailable(
                                              NoTransactionManager::instance))
                                      .relayEnabled(relay.enabled())
                                      .relay(r -> r.batchSize(relay.batchSize())
                                                   .maxInFlight(relay.maxInFlight())
                                                   .pollInterval(relay.pollInterval())
                                                   .ackTimeout(relay.ackTimeout()))
                                      .segmentClaims(relay.segmentClaims())
                                      .topicCheck(deduplicationCheck(properties, deduplicationSettings, environment))
                                      .segmentClaims(claims -> {
                                          claims.processorName(relay.processorName())
                                                .claimTimeout(claimTimeout(relay, environment));
                                          if (relay.nodeId() != null) {
                                              claims.nodeId(relay.nodeId());
                                          }
                                          tokenSchema.ifUnique(schema -> claims.tokenTable(TokenTable.of(schema)));
                                      })
                                      .schemaInitializer(schemaInitializer(properties, store, dataSource));
        builder.upcasting(properties.upcasting().enabled());
        builder.upcasting(upcasting -> {
            publishedEventUpcasters.orderedStream().forEach(upcasting::upcaster);
            properties.upcasting().currentVersions().forEach(upcasting::currentVersion);
        });
        if (retention.enabled()) {
            builder.retention(r -> r.retainSent(retention.retainSent())
                                    .archive(retention.mode() == OutboxProperties.Retention.Mode.ARCHIVE)
                                    .batchSize(retention.batchSize())
                                    .interval(retention.interval())
                                    .dutyCycle(retention.dutyCycle()));
        }
        return builder.build();
    }

    /** The operator's actions (also behind the {@code outbox} Actuator endpoint). */
    @org.springframework.context.annotation.Conditional(DispatchModeCondition.OutboxTable.class)
    @Bean
    @ConditionalOnMissingBean
    OutboxOperations outboxOperations(OutboxConfigurerModule module) {
        return module.operations().orElse(null);
    }

    /** The backlog, read at most every 5 seconds, behind the metrics' gauges and the health indicator. */
    @org.springframework.context.annotation.Conditional(DispatchModeCondition.OutboxTable.class)
    @Bean
    @ConditionalOnMissingBean
    OutboxStatistics outboxStatistics(OutboxStore store, ObjectProvider<TransactionManager> transactionManager) {
        if (!(store instanceof OutboxMaintenance maintenance)) {
            return null;
        }
        return new OutboxStatistics(maintenance, transactionManager.getIfAvailable(NoTransactionManager::instance),
                                    Duration.ofSeconds(5), Clock.systemUTC());
    }

    @org.springframework.context.annotation.Conditional(DispatchModeCondition.OutboxTable.class)
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(Tracer.class)
    static class TracingConfiguration {

        /** The current Micrometer Tracing span's context, when the event's metadata carries none. */
        @Bean
        @ConditionalOnMissingBean
        TraceParentProvider outboxTraceParentProvider(ObjectProvider<Tracer> tracer) {
            Tracer available = tracer.getIfAvailable();
            return available == null ? event -> null : new MicrometerTraceParentProvider(available);
        }
    }

    /** Deduplication settings read with the application's Pulsar admin client (its URL, authentication and TLS). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.pulsar.core.PulsarAdministration")
    static class DeduplicationSettingsConfiguration {

        @Bean
        @ConditionalOnMissingBean
        @org.springframework.boot.autoconfigure.condition.ConditionalOnBean(
                org.springframework.pulsar.core.PulsarAdministration.class)
        DeduplicationSettings outboxDeduplicationSettings(
                org.springframework.pulsar.core.PulsarAdministration administration, Environment environment) {
            return new PulsarAdminDeduplicationSettings(administration, adminUrl(environment));
        }
    }

    static io.github.pulsaroutbox.pulsar.DeduplicationCheck deduplicationCheck(
            OutboxProperties properties, ObjectProvider<DeduplicationSettings> settings, Environment environment) {
        return new io.github.pulsaroutbox.pulsar.DeduplicationCheck(
                settings.getIfAvailable(() -> DeduplicationSettings.adminRestApi(adminUrl(environment))),
                properties.pulsar().deduplication());
    }

    private static String adminUrl(Environment environment) {
        return environment.getProperty("spring.pulsar.admin.service-url", "http://localhost:8080");
    }

    /** The application's event serializer when it writes JSON, else a Jackson one on the application's mapper. */
    static Serializer jsonSerializer(ObjectProvider<Serializer> eventSerializer,
                                             ObjectProvider<ObjectMapper> objectMapper) {
        Serializer serializer = eventSerializer.getIfAvailable();
        if (serializer instanceof JacksonSerializer) {
            return serializer;
        }
        ObjectMapper mapper = objectMapper.getIfAvailable(ObjectMapper::new).copy();
        return JacksonSerializer.builder().objectMapper(mapper).build();
    }

    private static Runnable schemaInitializer(OutboxProperties properties, OutboxStore store,
                                              ObjectProvider<DataSource> dataSource) {
        if (!(store instanceof JdbcOutboxStore jdbcStore)) {
            return () -> {
            };
        }
        DatabaseInitializationMode mode = properties.initializeSchema();
        boolean create = switch (mode) {
            case ALWAYS -> true;
            case NEVER -> false;
            case EMBEDDED -> {
                DataSource ds = dataSource.getIfAvailable();
                yield ds != null && EmbeddedDatabaseConnection.isEmbedded(ds);
            }
        };
        return create ? jdbcStore::createSchema : () -> {
        };
    }

    private static void validateTopic(String property, String topic) {
        try {
            PulsarTopics.normalize(topic);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigurationPropertyValueException(property, topic, e.getMessage());
        }
    }

    private static DataSource requireDataSource(ObjectProvider<DataSource> dataSource) {
        return dataSource.getIfAvailable(() -> {
            throw new IllegalStateException("The outbox needs a DataSource (or an Axon ConnectionProvider bean)");
        });
    }
}
