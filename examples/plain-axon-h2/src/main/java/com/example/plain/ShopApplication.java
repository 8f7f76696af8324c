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
import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

import java.time.Duration;
import javax.sql.DataSource;

/** A shop service on plain Axon (no Spring Boot): the set-up of docs/configuration.md, "Plain Axon". */
public final class ShopApplication {

    private ShopApplication() {
    }

    /** Starts Axon with the outbox on {@code dataSource}; {@code configuration.shutdown()} stops it. */
    public static Configuration start(DataSource dataSource, PulsarClient pulsarClient) {
        // Axon's JDBC event tables on H2 2.x (docs/configuration.md: none of Axon's table factories fits H2 2.x)
        new ResourceDatabasePopulator(new ClassPathResource("h2-event-store.sql")).execute(dataSource);

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
