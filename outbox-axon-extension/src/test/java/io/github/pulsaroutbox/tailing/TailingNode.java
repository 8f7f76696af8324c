package io.github.pulsaroutbox.tailing;

import com.zaxxer.hikari.HikariDataSource;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.pulsar.PulsarTopicResolver;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.config.Configuration;
import org.axonframework.config.Configurer;
import org.axonframework.config.DefaultConfigurer;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.eventsourcing.eventstore.jdbc.EventSchema;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One application instance in the tailing mode as its own JVM, for the tailing replica tests: plain Axon with a JDBC
 * event store and token store on PostgreSQL and the tailing processor publishing to Pulsar, until it is killed.
 * <p>
 * Arguments: JDBC URL, user, Pulsar service URL, node id, event table, processor name, topic, claim timeout (ms), and
 * optionally a number of acknowledged sends after which the JVM halts at once, as a SIGKILL would stop it, between
 * the broker's acknowledgement and the token update of the batch.
 */
public final class TailingNode {

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        String serviceUrl = args[2];
        String nodeId = args[3];
        String eventTable = args[4];
        String processor = args[5];
        String topic = args[6];
        Duration claimTimeout = Duration.ofMillis(Long.parseLong(args[7]));
        int haltAfter = args.length > 8 ? Integer.parseInt(args[8]) : Integer.MAX_VALUE;

        HikariDataSource dataSource = new HikariDataSource();
        dataSource.setJdbcUrl(url);
        dataSource.setUsername(user);
        dataSource.setMaximumPoolSize(8);
        SpringTransactionManager transactions =
                new SpringTransactionManager(new DataSourceTransactionManager(dataSource));
        ConnectionProvider connections =
                new UnitOfWorkAwareConnectionProviderWrapper(new SpringDataSourceConnectionProvider(dataSource));
        JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
        JdbcTokenStore tokenStore = JdbcTokenStore.builder().connectionProvider(connections).serializer(serializer)
                                                  .claimTimeout(claimTimeout).nodeId(nodeId).build();
        PulsarClient client = PulsarClient.builder().serviceUrl(serviceUrl)
                                          .operationTimeout(10, TimeUnit.SECONDS)
                                          .startingBackoffInterval(100, TimeUnit.MILLISECONDS)
                                          .maxBackoffInterval(2, TimeUnit.SECONDS)
                                          .build();
        Configurer configurer = DefaultConfigurer.defaultConfiguration()
                .configureTransactionManager(c -> transactions)
                .configureSerializer(c -> serializer)
                .configureEventSerializer(c -> serializer)
                .configureEmbeddedEventStore(c -> JdbcEventStorageEngine.builder()
                        .connectionProvider(connections).transactionManager(transactions)
                        .schema(EventSchema.builder().eventTable(eventTable).snapshotTable(eventTable + "_snapshots").build())
                        .eventSerializer(serializer).snapshotSerializer(serializer).build())
                .registerComponent(TokenStore.class, c -> tokenStore);
        EventStoreTailingModule.builder()
                .serializer(serializer)
                .publisher(new HaltingPublisher(PulsarOutboxPublisher.builder().pulsarClient(client)
                                                                     .source("tailing-test")
                                                                     .producerNamePrefix("tailing-test")
                                                                     .sendTimeout(Duration.ofSeconds(30)).build(),
                                                new java.util.concurrent.atomic.AtomicInteger(haltAfter)))
                .topicResolver(PulsarTopicResolver.builder().map("Account", topic).build())
                .aggregate(Account.class)
                .processorName(processor)
                .segments(8)
                .startPosition(EventStoreTailingModule.StartPosition.TAIL)
                .balanceHeartbeat(Duration.ofMillis(claimTimeout.toMillis() / 3))
                .processorCustomizer(p -> p.tokenClaimInterval(500).claimExtensionThreshold(claimTimeout.toMillis() / 3))
                .build()
                .configureModule(configurer);
        Configuration configuration = configurer.start();
        Runtime.getRuntime().addShutdownHook(new Thread(configuration::shutdown));
        System.out.println("TAILING-NODE-STARTED " + nodeId);
        while (true) {
            Thread.sleep(5_000);
        }
    }

    /** Halts the JVM right after the given number of acknowledgements (before the batch's token is stored). */
    private static final class HaltingPublisher extends io.github.pulsaroutbox.relay.ForwardingOutboxPublisher {

        private final java.util.concurrent.atomic.AtomicInteger remaining;

        HaltingPublisher(io.github.pulsaroutbox.relay.OutboxPublisher delegate,
                         java.util.concurrent.atomic.AtomicInteger remaining) {
            super(delegate);
            this.remaining = remaining;
        }

        @Override
        protected io.github.pulsaroutbox.relay.OutboxPublisher wrap(io.github.pulsaroutbox.relay.OutboxPublisher publisher) {
            return new HaltingPublisher(publisher, remaining);
        }

        private <T> java.util.concurrent.CompletableFuture<T> counted(java.util.concurrent.CompletableFuture<T> sent) {
            return sent.thenApply(acknowledged -> {
                if (remaining.decrementAndGet() == 0) {
                    System.out.println("TAILING-NODE-HALTS after its acknowledgements");
                    Runtime.getRuntime().halt(137);
                }
                return acknowledged;
            });
        }

        @Override
        public java.util.concurrent.CompletableFuture<?> publish(io.github.pulsaroutbox.OutboxEntry entry,
                                                                 String destination) {
            return counted(super.publish(entry, destination));
        }

        @Override
        public java.util.concurrent.CompletableFuture<?> publish(io.github.pulsaroutbox.OutboxEntry entry,
                                                                 String destination, int segment, long sequenceId) {
            return counted(super.publish(entry, destination, segment, sequenceId));
        }
    }
}
