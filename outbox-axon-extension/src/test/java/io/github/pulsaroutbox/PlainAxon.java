package io.github.pulsaroutbox;

import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.Configurer;
import org.axonframework.config.DefaultConfigurer;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.serialization.json.JacksonSerializer;

/** Plain Axon (no Spring Boot) test set-ups. */
public final class PlainAxon {

    private PlainAxon() {
    }

    /** An in-memory H2 database with Axon's JDBC event tables, and a transaction manager and connections on it. */
    public record H2Database(org.h2.jdbcx.JdbcDataSource dataSource, TransactionManager transactions,
                             ConnectionProvider connections) {

        /** A new database named after {@code purpose}. */
        public static H2Database create(String purpose) {
            org.h2.jdbcx.JdbcDataSource dataSource = new org.h2.jdbcx.JdbcDataSource();
            dataSource.setURL("jdbc:h2:mem:" + purpose + "-" + java.util.UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
            new org.springframework.jdbc.datasource.init.ResourceDatabasePopulator(
                    new org.springframework.core.io.ClassPathResource("axon-jdbc/h2-event-store.sql")).execute(dataSource);
            return new H2Database(dataSource, new org.axonframework.spring.messaging.unitofwork.SpringTransactionManager(
                    new org.springframework.jdbc.datasource.DataSourceTransactionManager(dataSource)),
                                  new org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper(
                                          new org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider(
                                                  dataSource)));
        }

        /**
         * A module that captures into {@code store} (its table created at start) and does not relay: a publisher that
         * acknowledges everything, topics named after the aggregate types.
         */
        public OutboxConfigurerModule captureOnly(io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore store) {
            return OutboxConfigurerModule.builder()
                                         .store(store)
                                         .serializer(JacksonSerializer.defaultSerializer())
                                         .publisher((entry, topic) -> java.util.concurrent.CompletableFuture
                                                 .completedFuture("ok"))
                                         .topicResolver((type, topic) -> topic)
                                         .transactionManager(transactions)
                                         .relayEnabled(false)
                                         .schemaInitializer(store::createSchema)
                                         .build();
        }
    }

    /** A configurer with a JDBC event store on {@code connections}, in {@code transactions}, serializing JSON. */
    public static Configurer jdbcConfigurer(TransactionManager transactions, ConnectionProvider connections,
                                            JacksonSerializer serializer) {
        return DefaultConfigurer.defaultConfiguration()
                                .configureTransactionManager(c -> transactions)
                                .configureSerializer(c -> serializer)
                                .configureEventSerializer(c -> serializer)
                                .configureEmbeddedEventStore(c -> JdbcEventStorageEngine.builder()
                                                                                        .connectionProvider(connections)
                                                                                        .transactionManager(transactions)
                                                                                        .eventSerializer(serializer)
                                                                                        .snapshotSerializer(serializer)
                                                                                        .build());
    }
}
