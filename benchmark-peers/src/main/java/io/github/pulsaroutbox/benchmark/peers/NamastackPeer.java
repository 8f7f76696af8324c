package io.github.pulsaroutbox.benchmark.peers;

import io.namastack.outbox.Outbox;
import io.namastack.outbox.OutboxProcessingScheduler;
import io.namastack.outbox.handler.OutboxHandler;
import io.namastack.outbox.handler.OutboxRecordMetadata;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.support.TransactionTemplate;

import java.util.HashMap;
import java.util.Map;

/**
 * namastack outbox: a Spring Boot application with its JDBC starter. {@code Outbox.schedule(payload, key)} stores a
 * record per row; its scheduler polls every 25 ms for up to 1,000 keys with new records and processes each key's
 * records in order on a pool of {@code workers} threads: a synchronous send, then the record marked completed. Ordered
 * per key; at least once.
 */
final class NamastackPeer implements Peer {

    /** The application: Spring Boot's auto-configuration (data source, transactions, namastack) and the handler. */
    @Configuration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class App {
        @Bean
        OutboxHandler pulsarHandler(PeerSink sink) {
            return new OutboxHandler() {
                @Override
                public void handle(Object payload, OutboxRecordMetadata metadata) {
                    try {
                        sink.send((PeerEvent) payload);
                    } catch (Exception e) {
                        throw new IllegalStateException(e); // the library retries the record
                    }
                }
            };
        }
    }

    private final PeerDatabase database;
    private final ConfigurableApplicationContext context;
    private final OutboxProcessingScheduler scheduler;

    NamastackPeer(PeerDatabase database, PeerSink sink, int workers, int keysPerPoll) {
        this.database = database;
        Map<String, Object> properties = new HashMap<>();
        properties.put("spring.datasource.url", database.url);
        properties.put("spring.datasource.username", database.user);
        properties.put("spring.datasource.hikari.maximum-pool-size", workers + 4);
        properties.put("namastack.outbox.polling.trigger", "fixed");
        properties.put("namastack.outbox.polling.fixed.interval", "25ms");
        properties.put("namastack.outbox.polling.batch-size", keysPerPoll);
        properties.put("namastack.outbox.processing.executor-core-pool-size", workers);
        properties.put("namastack.outbox.processing.executor-max-pool-size", workers);
        properties.put("namastack.outbox.jdbc.schema-initialization.enabled", true);
        properties.put("spring.main.banner-mode", "off");
        properties.put("logging.level.root", "WARN");
        context = new SpringApplicationBuilder(App.class)
                .web(WebApplicationType.NONE)
                .properties(properties)
                .initializers(ctx -> ctx.getBeanFactory().registerSingleton("peerSink", sink))
                .run();
        scheduler = context.getBean(OutboxProcessingScheduler.class);
        scheduler.stop(); // held while the rows are stored
    }

    @Override
    public void seed(int rows, int aggregates, int payloadBytes) {
        Outbox outbox = context.getBean(Outbox.class);
        TransactionTemplate transaction = context.getBean(TransactionTemplate.class);
        for (int first = 0; first < rows; first += 2000) {
            int from = first;
            transaction.executeWithoutResult(status -> {
                for (int row = from; row < Math.min(rows, from + 2000); row++) {
                    PeerEvent event = PeerEvent.of(row, aggregates, payloadBytes);
                    outbox.schedule(event, event.accountId());
                }
            });
        }
    }

    @Override
    public String table() {
        return "outbox_record";
    }

    @Override
    public void start() {
        scheduler.start();
    }

    @Override
    public long incomplete() {
        return database.count("SELECT COUNT(*) FROM outbox_record WHERE status <> 'COMPLETED'");
    }

    @Override
    public String guarantee() {
        return "ordered per key, at least once";
    }

    @Override
    public void close() {
        context.close();
    }
}
