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

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One relay node as its own JVM, for the replica tests: a relay with segment claims in a JDBC token store on
 * PostgreSQL, publishing to Pulsar, until it is killed (or stopped with SIGTERM: then it releases its claims).
 * <p>
 * Arguments: JDBC URL, user, Pulsar service URL, node id, outbox table, processor name, topic, claim timeout (ms).
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

        HikariDataSource dataSource = new HikariDataSource();
        dataSource.setJdbcUrl(url);
        dataSource.setUsername(user);
        dataSource.setMaximumPoolSize(4);
        SpringTransactionManager transactions =
                new SpringTransactionManager(new DataSourceTransactionManager(dataSource));
        ConnectionProvider connections = new SpringDataSourceConnectionProvider(dataSource);
        JdbcTokenStore tokenStore = JdbcTokenStore.builder()
                                                  .connectionProvider(connections)
                                                  .serializer(JacksonSerializer.defaultSerializer())
                                                  .claimTimeout(claimTimeout)
                                                  .nodeId(nodeId)
                                                  .build();
        JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(connections).table(table).build();
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
                                                                   .nodes(store)
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
}
