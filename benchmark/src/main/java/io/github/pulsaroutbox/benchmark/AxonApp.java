package io.github.pulsaroutbox.benchmark;

import io.github.pulsaroutbox.OutboxConfigurerModule;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.config.Configuration;
import org.axonframework.common.caching.WeakReferenceCache;
import org.axonframework.config.AggregateConfigurer;
import org.axonframework.config.Configurer;
import org.axonframework.config.DefaultConfigurer;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.messaging.MessageHandlerInterceptor;
import org.axonframework.commandhandling.CommandMessage;
import org.axonframework.serialization.json.JacksonSerializer;

import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * A plain Axon application on the benchmark database: a JDBC event store, {@link BenchAccount}, and optionally the
 * outbox (capture plus relay, default settings) publishing to {@code topic}.
 */
final class AxonApp implements AutoCloseable {

    private final Configuration configuration;

    /**
     * @param relay    whether the outbox's relay runs too (capture always runs when {@code topic} is set)
     * @param onCommit called with the account id and {@code System.nanoTime()} right after each command's unit of
     *                 work committed (may be {@code null})
     */
    AxonApp(BenchDatabase db, PulsarClient client, String topic, boolean relay, BiConsumer<String, Long> onCommit) {
        this(db, client, topic, relay, onCommit, false);
    }

    /**
     * @param cached whether the aggregates are cached (as a service with a hot aggregate would; without a cache each
     *               command reads all of its aggregate's events)
     */
    AxonApp(BenchDatabase db, PulsarClient client, String topic, boolean relay, BiConsumer<String, Long> onCommit,
            boolean cached) {
        JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
        JdbcEventStorageEngine engine = JdbcEventStorageEngine.builder()
                                                              .connectionProvider(db.connectionProvider())
                                                              .transactionManager(db.transactionManager())
                                                              .eventSerializer(serializer)
                                                              .snapshotSerializer(serializer)
                                                              .build();
        db.createEventStore(engine);
        Configurer configurer = DefaultConfigurer.defaultConfiguration()
                                                 .configureTransactionManager(c -> db.transactionManager())
                                                 .configureSerializer(c -> serializer)
                                                 .configureEventSerializer(c -> serializer)
                                                 .configureEmbeddedEventStore(c -> engine)
                                                 .configureAggregate(
                                                         cached ? AggregateConfigurer
                                                                 .defaultConfiguration(BenchAccount.class)
                                                                 .configureCache(c -> new WeakReferenceCache())
                                                                : AggregateConfigurer
                                                                 .defaultConfiguration(BenchAccount.class));
        if (topic != null) {
            OutboxConfigurerModule.builder()
                                  .store(db.store())
                                  .serializer(serializer)
                                  .publisher(PulsarOutboxPublisher.builder().pulsarClient(client).build())
                                  .topicResolver((type, annotated) -> Optional.of(topic))
                                  .transactionManager(db.transactionManager())
                                  .relayEnabled(relay)
                                  .build()
                                  .configureModule(configurer);
        }
        if (onCommit != null) {
            MessageHandlerInterceptor<CommandMessage<?>> commitClock = (unitOfWork, chain) -> {
                Object payload = unitOfWork.getMessage().getPayload();
                if (payload instanceof BenchAccount.Open open) {
                    unitOfWork.afterCommit(u -> onCommit.accept(open.accountId(), System.nanoTime()));
                } else if (payload instanceof BenchAccount.Deposit deposit) {
                    unitOfWork.afterCommit(u -> onCommit.accept(deposit.accountId() + "#" + deposit.n(),
                                                                System.nanoTime()));
                }
                return chain.proceed();
            };
            configurer.onInitialize(c -> c.onStart(() -> c.commandBus().registerHandlerInterceptor(commitClock)));
        }
        configuration = configurer.start();
    }

    CommandGateway gateway() {
        return configuration.commandGateway();
    }

    @Override
    public void close() {
        configuration.shutdown();
    }
}
