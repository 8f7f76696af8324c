package io.github.pulsaroutbox.examples;

import io.github.pulsaroutbox.OutboxConfigurerModule;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.pulsar.PulsarTopicResolver;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.Configuration;
import org.axonframework.config.Configurer;
import org.axonframework.config.DefaultConfigurer;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

import java.time.Duration;
import javax.sql.DataSource;

/**
 * The outbox without Spring Boot, the set-up of {@code docs/configuration.md} ("Plain Axon", whose copy is the project
 * {@code examples/plain-axon-h2}) for any aggregate and topic: Axon's {@code DefaultConfigurer} with a JDBC event store
 * and token store on the application's {@link DataSource}, and the outbox registered through
 * {@link OutboxConfigurerModule#configureModule(Configurer)}. Run against the real broker by
 * {@code PlainAxonConfigurerIntegrationTest} (capture, rollback, relay, shutdown). Axon's event tables
 * ({@code DomainEventEntry}, {@code SnapshotEventEntry}) must exist.
 */
public final class PlainAxonExample {

    private PlainAxonExample() {
    }

    /**
     * Starts Axon with the outbox: events of {@code aggregate} (annotated {@code @Outbox}) leave on {@code topic}.
     *
     * @param dataSource   the application's database, holding the event store, the token store and the outbox
     * @param pulsarClient the application's Pulsar client (not closed here)
     * @param aggregate    an event-sourced aggregate class annotated {@code @Outbox}
     * @param topic        the topic of its events
     * @return the started configuration ({@code shutdown()} stops the relay) and the outbox module
     */
    public static Started start(DataSource dataSource, PulsarClient pulsarClient, Class<?> aggregate, String topic) {
        ConnectionProvider connections =
                new UnitOfWorkAwareConnectionProviderWrapper(new SpringDataSourceConnectionProvider(dataSource));
        TransactionManager transactions = new SpringTransactionManager(new DataSourceTransactionManager(dataSource));
        JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
        JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(connections).build();
        JdbcTokenStore tokenStore = JdbcTokenStore.builder().connectionProvider(connections).serializer(serializer)
                                                  .build();
        transactions.executeInTransaction(() -> tokenStore.createSchema(GenericTokenTableFactory.INSTANCE));

        Configurer configurer = DefaultConfigurer.defaultConfiguration()
                .configureTransactionManager(c -> transactions)
                .configureSerializer(c -> serializer)
                .configureEventSerializer(c -> serializer)
                .configureEmbeddedEventStore(c -> JdbcEventStorageEngine.builder()
                        .connectionProvider(connections).transactionManager(transactions)
                        .eventSerializer(serializer).snapshotSerializer(serializer).build())
                .configureAggregate(aggregate)
                // the token store the relay nodes claim their segments in: shared by every node
                .registerComponent(TokenStore.class, c -> tokenStore);

        OutboxConfigurerModule outbox = OutboxConfigurerModule.builder()
                .store(store)                                   // the event store's connections
                .serializer(serializer)                         // a JacksonSerializer
                .publisher(PulsarOutboxPublisher.builder().pulsarClient(pulsarClient).build())
                .topicResolver(PulsarTopicResolver.builder().map(aggregate.getSimpleName(), topic).build())
                .transactionManager(transactions)               // must commit the relay's status updates
                .schemaInitializer(store::createSchema)         // or create the table with your migrations
                .segmentClaims(claims -> claims.claimTimeout(Duration.ofSeconds(10))) // the token store's
                .build();
        outbox.configureModule(configurer);

        return new Started(configurer.start(), outbox);
    }

    /** A started Axon configuration and its outbox module. */
    public record Started(Configuration configuration, OutboxConfigurerModule outbox) {
    }
}
