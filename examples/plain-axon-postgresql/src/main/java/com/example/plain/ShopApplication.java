package com.example.plain;

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
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.PostgresTokenTableFactory;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.eventsourcing.eventstore.jdbc.PostgresEventTableFactory;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

import java.time.Duration;
import javax.sql.DataSource;

/** A shop service on plain Axon (no Spring Boot) on PostgreSQL: docs/configuration.md, "Plain Axon on PostgreSQL". */
public final class ShopApplication {

    private ShopApplication() {
    }

    /** Starts Axon with the outbox on {@code dataSource}; {@code configuration.shutdown()} stops it. */
    public static Configuration start(DataSource dataSource, PulsarClient pulsarClient) {
        ConnectionProvider connections =
                new UnitOfWorkAwareConnectionProviderWrapper(new SpringDataSourceConnectionProvider(dataSource));
        TransactionManager transactions = new SpringTransactionManager(new DataSourceTransactionManager(dataSource));
        JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
        JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(connections).build();
        JdbcEventStorageEngine eventStorage = JdbcEventStorageEngine.builder()
                .connectionProvider(connections).transactionManager(transactions)
                .eventSerializer(serializer).snapshotSerializer(serializer).build();
        JdbcTokenStore tokenStore = JdbcTokenStore.builder().connectionProvider(connections).serializer(serializer)
                                                  .build();
        // Axon's tables with PostgreSQL's types (its generic factories write blob, which PostgreSQL does not have)
        transactions.executeInTransaction(() -> {
            eventStorage.createSchema(PostgresEventTableFactory.INSTANCE);
            tokenStore.createSchema(PostgresTokenTableFactory.INSTANCE);
        });

        Configurer configurer = DefaultConfigurer.defaultConfiguration()
                .configureTransactionManager(c -> transactions)
                .configureSerializer(c -> serializer)
                .configureEventSerializer(c -> serializer)
                .configureEmbeddedEventStore(c -> eventStorage)
                .configureAggregate(Order.class)
                // the token store the relay nodes claim their segments in: shared by every node
                .registerComponent(TokenStore.class, c -> tokenStore);

        OutboxConfigurerModule.builder()
                .store(store)                                   // the event store's connections
                .serializer(serializer)                         // a JacksonSerializer
                .publisher(PulsarOutboxPublisher.builder().pulsarClient(pulsarClient).build())
                .topicResolver(PulsarTopicResolver.builder().map("Order", "persistent://public/default/orders").build())
                .transactionManager(transactions)               // must commit the relay's status updates
                .schemaInitializer(store::createSchema)         // or create the table with your migrations
                .segmentClaims(claims -> claims.claimTimeout(Duration.ofSeconds(10))) // the token store's
                .build()
                .configureModule(configurer);

        return configurer.start();
    }
}
