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
