package io.github.pulsaroutbox.receiving;

import com.zaxxer.hikari.HikariDataSource;
import io.github.pulsaroutbox.receiving.inbox.InboxInterceptor;
import io.github.pulsaroutbox.receiving.inbox.JdbcInbox;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.EventProcessor;
import org.axonframework.eventhandling.PropagatingErrorHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.SimpleEventHandlerInvoker;
import org.axonframework.eventhandling.SubscribingEventProcessor;
import org.axonframework.eventhandling.TrackingEventProcessor;
import org.axonframework.eventhandling.TrackingEventProcessorConfiguration;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One receiving service as its own JVM, for {@link ReceiverCrashIntegrationTest}: a tracking processor (two segments,
 * two threads) on the streamable source, its tokens in a JDBC token store, or a subscribing processor on the
 * subscribable source (subscription: the processor name); the inbox and a totals projection on PostgreSQL or
 * MariaDB, all in the processor's transaction, until it is killed.
 * <p>
 * Arguments: JDBC URL, user, Pulsar service URL, topic, processor name, node id, totals table, inbox table, and
 * {@code streamable} or {@code subscribable}. The
 * totals table holds per account the total and the last sequence applied; an event that is not its account's next is
 * written to {@code <totals table>_violations}.
 */
public final class ReceiverNode {

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        String serviceUrl = args[2];
        String topic = args[3];
        String processorName = args[4];
        String nodeId = args[5];
        String totals = args[6];
        String inboxTable = args[7];
        boolean subscribable = args[8].equals("subscribable");

        HikariDataSource pool = new HikariDataSource();
        pool.setJdbcUrl(url);
        pool.setUsername(user);
        pool.setMaximumPoolSize(4);
        SpringTransactionManager transactions = new SpringTransactionManager(new DataSourceTransactionManager(pool));
        ConnectionProvider connections =
                new UnitOfWorkAwareConnectionProviderWrapper(new SpringDataSourceConnectionProvider(pool));
        JdbcTokenStore tokens = JdbcTokenStore.builder().connectionProvider(connections)
                                              .serializer(JacksonSerializer.defaultSerializer())
                                              .claimTimeout(Duration.ofSeconds(3)).nodeId(nodeId).build();
        JdbcInbox inbox = JdbcInbox.builder().connectionProvider(connections).table(inboxTable).build();
        PulsarClient client = PulsarClient.builder().serviceUrl(serviceUrl).operationTimeout(10, TimeUnit.SECONDS)
                                          .build();
        SimpleEventHandlerInvoker handlers = SimpleEventHandlerInvoker.builder()
                                                                      .eventHandlers(new Totals(connections, totals))
                                                                      .listenerInvocationErrorHandler(
                                                                              PropagatingErrorHandler.instance())
                                                                      .build();
        EventProcessor processor;
        if (subscribable) {
            PulsarSubscribableMessageSource source = PulsarSubscribableMessageSource.builder().pulsarClient(client)
                                                                                    .topic(topic)
                                                                                    .subscription(processorName)
                                                                                    .converter(Deposits.converter())
                                                                                    .build();
            processor = SubscribingEventProcessor.builder().name(processorName).eventHandlerInvoker(handlers)
                                                 .messageSource(source).transactionManager(transactions).build();
        } else {
            PulsarStreamableMessageSource source = PulsarStreamableMessageSource.builder().pulsarClient(client)
                                                                                .topic(topic)
                                                                                .converter(Deposits.converter())
                                                                                .build();
            processor = TrackingEventProcessor.builder()
                                              .name(processorName)
                                              .eventHandlerInvoker(handlers)
                                              .messageSource(source)
                                              .tokenStore(tokens)
                                              .transactionManager(transactions)
                                              .trackingEventProcessorConfiguration(
                                                      TrackingEventProcessorConfiguration.forParallelProcessing(2)
                                                                                         .andInitialSegmentsCount(2)
                                                                                         .andBatchSize(10))
                                              .build();
        }
        processor.registerHandlerInterceptor(new InboxInterceptor(inbox, processorName));
        processor.start();
        System.out.println("RECEIVER-NODE-STARTED " + nodeId);
        while (true) {
            Thread.sleep(5_000);
        }
    }

    /** The projection, on the connection of the processor's transaction. */
    static final class Totals {
        private final ConnectionProvider connections;
        private final String table;

        Totals(ConnectionProvider connections, String table) {
            this.connections = connections;
            this.table = table;
        }

        @EventHandler
        void on(Deposits.Deposited deposited, @SequenceNumber long sequence) throws SQLException {
            Connection c = connections.getConnection();
            long last = -1;
            try (PreparedStatement select = c.prepareStatement(
                    "SELECT last_sequence FROM " + table + " WHERE account = ? FOR UPDATE")) {
                select.setString(1, deposited.account());
                try (ResultSet rs = select.executeQuery()) {
                    if (rs.next()) {
                        last = rs.getLong(1);
                    }
                }
            }
            if (sequence != last + 1) {
                try (PreparedStatement violation = c.prepareStatement(
                        "INSERT INTO " + table + "_violations VALUES (?, ?, ?)")) {
                    violation.setString(1, deposited.account());
                    violation.setLong(2, sequence);
                    violation.setLong(3, last);
                    violation.executeUpdate();
                }
            }
            String write = last < 0 ? "INSERT INTO " + table + " (total, last_sequence, account) VALUES (?, ?, ?)"
                    : "UPDATE " + table + " SET total = total + ?, last_sequence = ? WHERE account = ?";
            try (PreparedStatement statement = c.prepareStatement(write)) { // the row is locked above, or new
                statement.setLong(1, deposited.amount());
                statement.setLong(2, sequence);
                statement.setString(3, deposited.account());
                statement.executeUpdate();
            }
        }
    }
}
