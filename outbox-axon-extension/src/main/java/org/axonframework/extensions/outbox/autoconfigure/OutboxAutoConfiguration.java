package org.axonframework.extensions.outbox.autoconfigure;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.extensions.outbox.OutboxConfigurerModule;
import org.axonframework.extensions.outbox.pulsar.PulsarOutboxPublisher;
import org.axonframework.extensions.outbox.pulsar.PulsarTopicResolver;
import org.axonframework.extensions.outbox.pulsar.PulsarTopics;
import org.axonframework.extensions.outbox.relay.OutboxPublisher;
import org.axonframework.extensions.outbox.relay.TopicResolver;
import org.axonframework.extensions.outbox.store.OutboxStore;
import org.axonframework.extensions.outbox.store.jdbc.JdbcOutboxStore;
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
import org.springframework.core.env.Environment;

import javax.sql.DataSource;

/**
 * Spring Boot autoconfiguration of the Axon Pulsar outbox: store, topic resolver, Pulsar publisher and the
 * {@link OutboxConfigurerModule} that Axon's autoconfiguration applies to its {@code Configurer}. Every bean backs
 * off when the application defines its own. It reuses the application's {@code DataSource} (through Axon's
 * {@link ConnectionProvider}), Axon {@link TransactionManager}, event {@link Serializer} (when it is Jackson) and
 * {@link PulsarClient}. Disabled by {@code axon.outbox.enabled=false}.
 */
@AutoConfiguration(
        after = {DataSourceAutoConfiguration.class, PulsarAutoConfiguration.class},
        afterName = {"org.axonframework.springboot.autoconfig.JdbcAutoConfiguration",
                "org.axonframework.springboot.autoconfig.AxonAutoConfiguration"})
@ConditionalOnClass({PulsarClient.class, org.axonframework.config.Configurer.class, DataSource.class})
@ConditionalOnProperty(prefix = "axon.outbox", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(OutboxProperties.class)
class OutboxAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    OutboxStore outboxStore(OutboxProperties properties, ObjectProvider<ConnectionProvider> connectionProvider,
                            ObjectProvider<DataSource> dataSource) {
        ConnectionProvider connections = connectionProvider.getIfAvailable(
                () -> new UnitOfWorkAwareConnectionProviderWrapper(
                        new SpringDataSourceConnectionProvider(requireDataSource(dataSource))));
        try {
            return JdbcOutboxStore.builder().connectionProvider(connections).table(properties.table()).build();
        } catch (AxonConfigurationException e) {
            throw new InvalidConfigurationPropertyValueException("axon.outbox.table", properties.table(),
                                                                 e.getMessage());
        }
    }

    @Bean
    @ConditionalOnMissingBean
    TopicResolver outboxTopicResolver(OutboxProperties properties) {
        PulsarTopicResolver.Builder builder = PulsarTopicResolver.builder();
        properties.topics().forEach((type, topic) -> {
            validateTopic("axon.outbox.topics." + type, topic);
            builder.map(type, topic);
        });
        if (properties.defaultTopic() != null) {
            validateTopic("axon.outbox.default-topic",
                          properties.defaultTopic().replace(PulsarTopicResolver.AGGREGATE_TYPE, "Aggregate"));
            builder.defaultTopicPattern(properties.defaultTopic());
        }
        return builder.build();
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxPublisher outboxPublisher(OutboxProperties properties, ObjectProvider<PulsarClient> pulsarClient,
                                    Environment environment) {
        PulsarClient client = pulsarClient.getIfAvailable(() -> {
            throw new IllegalStateException("The outbox needs a PulsarClient bean: add spring-boot-starter-pulsar "
                                                    + "(spring.pulsar.client.service-url) or define one");
        });
        OutboxProperties.Pulsar pulsar = properties.pulsar();
        String source = pulsar.source() != null ? pulsar.source()
                                                : environment.getProperty("spring.application.name", "axon-outbox");
        return PulsarOutboxPublisher.builder()
                                    .pulsarClient(client)
                                    .source(source)
                                    .sendTimeout(pulsar.sendTimeout())
                                    .batching(pulsar.batching())
                                    .batchingMaxPublishDelay(pulsar.batchingMaxPublishDelay())
                                    .maxPendingMessages(pulsar.maxPendingMessages())
                                    .build();
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxConfigurerModule outboxConfigurerModule(OutboxProperties properties,
                                                  OutboxStore store,
                                                  OutboxPublisher publisher,
                                                  TopicResolver topicResolver,
                                                  @Qualifier("eventSerializer") ObjectProvider<Serializer> eventSerializer,
                                                  ObjectProvider<ObjectMapper> objectMapper,
                                                  ObjectProvider<TransactionManager> transactionManager,
                                                  ObjectProvider<DataSource> dataSource) {
        OutboxProperties.Relay relay = properties.relay();
        return OutboxConfigurerModule.builder()
                                     .store(store)
                                     .publisher(publisher)
                                     .topicResolver(topicResolver)
                                     .serializer(jsonSerializer(eventSerializer, objectMapper))
                                     .transactionManager(transactionManager.getIfAvailable(
                                             NoTransactionManager::instance))
                                     .relayEnabled(relay.enabled())
                                     .relay(r -> r.batchSize(relay.batchSize())
                                                  .maxInFlight(relay.maxInFlight())
                                                  .pollInterval(relay.pollInterval())
                                                  .ackTimeout(relay.ackTimeout()))
                                     .schemaInitializer(schemaInitializer(properties, store, dataSource))
                                     .build();
    }

    /** The application's event serializer when it writes JSON, else a Jackson one on the application's mapper. */
    private static Serializer jsonSerializer(ObjectProvider<Serializer> eventSerializer,
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
