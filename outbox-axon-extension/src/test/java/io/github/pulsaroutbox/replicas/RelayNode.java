package io.github.pulsaroutbox.replicas;

import com.zaxxer.hikari.HikariDataSource;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.pulsar.PulsarTopicResolver;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.relay.SegmentClaims;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

import io.github.pulsaroutbox.store.OutboxNodes;
import io.github.pulsaroutbox.store.OutboxStore;

import org.springframework.jdbc.datasource.DelegatingDataSource;

import javax.sql.DataSource;
import java.lang.reflect.InvocationTargetException;
import java.sql.Connection;
import java.sql.SQLException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;

/**
 * One relay node as its own JVM, for the replica tests: a relay with segment claims in a JDBC token store on its
 * database (PostgreSQL or MariaDB), publishing to Pulsar, until it is killed (or stopped with SIGTERM: then it
 * releases its claims).
 * <p>
 * Arguments: JDBC URL, user, Pulsar service URL, node id, outbox table, processor name, topic, claim timeout (ms),
 * and optionally a directory the test controls the node through: once a file {@code armed} exists there, the node's
 * next recording of SENT rows stops inside its transaction, after its updates (holding their row locks), writes a file
 * {@code inside-transaction} and waits for ever there (the test then freezes the whole JVM with SIGSTOP); while a file
 * {@code database-down} exists, every new database connection fails (the node loses its database, not the broker).
 */
public final class RelayNode {

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        String serviceUrl = args[2];
        String nodeId = args[3];
        String table = args[4];
        String processor = args[5];
        String topic = args[6];
        Duration claimTimeout = Duration.ofMillis(Long.parseLong(args[7]));

        HikariDataSource pool = new HikariDataSource();
        pool.setJdbcUrl(url);
        pool.setUsername(user);
        pool.setMaximumPoolSize(4);
        Path control = args.length > 8 ? Path.of(args[8]) : null;
        DataSource dataSource = control == null ? pool : new DelegatingDataSource(pool) {
            @Override
            public Connection getConnection() throws SQLException {
                if (Files.exists(control.resolve("database-down"))) {
                    throw new SQLException("The database cannot be reached (test)");
                }
                return super.getConnection();
            }
        };
        SpringTransactionManager transactions =
                new SpringTransactionManager(new DataSourceTransactionManager(dataSource));
        ConnectionProvider connections = new SpringDataSourceConnectionProvider(dataSource);
        JdbcTokenStore tokenStore = JdbcTokenStore.builder()
                                                  .connectionProvider(connections)
                                                  .serializer(JacksonSerializer.defaultSerializer())
                                                  .claimTimeout(claimTimeout)
                                                  .nodeId(nodeId)
                                                  .build();
        JdbcOutboxStore jdbcStore = JdbcOutboxStore.builder().connectionProvider(connections).table(table).build();
        OutboxStore store = control != null ? freezingInRecordings(jdbcStore, control) : jdbcStore;
        PulsarClient client = PulsarClient.builder()
                                          .serviceUrl(serviceUrl)
                                          .operationTimeout(10, TimeUnit.SECONDS)
                                          .startingBackoffInterval(100, TimeUnit.MILLISECONDS)
                                          .maxBackoffInterval(2, TimeUnit.SECONDS)
                                          .build();
        PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder()
                                                               .pulsarClient(client)
                                                               .source("replica-test")
                                                               .producerNamePrefix(processor)
                                                               .sendTimeout(Duration.ofSeconds(30))
                                                               .build();
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher(publisher)
                                       .topicResolver(PulsarTopicResolver.builder().map("Account", topic).build())
                                       .transactionManager(transactions)
                                       .pollInterval(Duration.ofMillis(200))
                                       .ackTimeout(Duration.ofSeconds(40))
                                       .name("relay-" + nodeId)
                                       .segmentClaims(SegmentClaims.builder()
                                                                   .tokenStore(tokenStore)
                                                                   .transactionManager(transactions)
                                                                   .nodes((OutboxNodes) store)
                                                                   .processorName(processor)
                                                                   .claimTimeout(claimTimeout)
                                                                   .nodeId(nodeId)
                                                                   .build())
                                       .build();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            relay.shutdown();
            publisher.close();
        }));
        relay.start();
        System.out.println("RELAY-NODE-STARTED " + nodeId);
        while (true) {
            Thread.sleep(5_000);
            System.out.println("RELAY-NODE " + nodeId + " owns " + relay.segmentClaims().orElseThrow().ownedSegments());
        }
    }

    /** The store, whose first recording of SENT rows once {@code directory/armed} exists never ends. */
    private static OutboxStore freezingInRecordings(JdbcOutboxStore delegate, Path directory) {
        AtomicBoolean frozen = new AtomicBoolean();
        return (OutboxStore) Proxy.newProxyInstance(
                RelayNode.class.getClassLoader(), new Class<?>[]{OutboxStore.class, OutboxNodes.class},
                (proxy, method, arguments) -> {
                    Object result;
                    try {
                        result = method.invoke(delegate, arguments);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("markSent") && Files.exists(directory.resolve("armed"))
                            && !((java.util.Collection<?>) arguments[0]).isEmpty() && frozen.compareAndSet(false, true)) {
                        Files.writeString(directory.resolve("inside-transaction"), "frozen");
                        System.out.println("RELAY-NODE frozen inside a recording of " + ((java.util.Collection<?>)
                                arguments[0]).size() + " SENT row(s)");
                        while (true) {
                            Thread.sleep(1_000); // the test stops the JVM now; it never returns from here
                        }
                    }
                    return result;
                });
    }
}
