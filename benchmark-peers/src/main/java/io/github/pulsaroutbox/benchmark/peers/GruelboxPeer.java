package io.github.pulsaroutbox.benchmark.peers;

import com.gruelbox.transactionoutbox.DefaultPersistor;
import com.gruelbox.transactionoutbox.Dialect;
import com.gruelbox.transactionoutbox.ExecutorSubmitter;
import com.gruelbox.transactionoutbox.Instantiator;
import com.gruelbox.transactionoutbox.Submitter;
import com.gruelbox.transactionoutbox.ThreadLocalContextTransactionManager;
import com.gruelbox.transactionoutbox.TransactionManager;
import com.gruelbox.transactionoutbox.TransactionOutbox;
import com.gruelbox.transactionoutbox.TransactionOutboxEntry;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * gruelbox transaction-outbox: a scheduled method call per row ({@link Publisher#publish}), stored in its table and
 * run by a pool of {@code workers} threads, each a transaction that locks the row, sends synchronously and marks it
 * processed. The backlog is drained on the library's recovery path (its entries' immediate submission after commit
 * lost, for instance to a crash or a full queue): {@link TransactionOutbox#flush()} in a loop, each flush pushing a
 * batch's retry time back (one update per row) and handing the batch to the pool. Unordered; at least once (a crash
 * between the send and the commit sends again).
 */
final class GruelboxPeer implements Peer {

    /** The method the outbox calls later; public, as the library's proxy requires. */
    public static class Publisher {
        private final PeerSink sink;

        Publisher(PeerSink sink) {
            this.sink = sink;
        }

        public void publish(String accountId, int row, String json) {
            try {
                sink.send(new PeerEvent(accountId, row, json));
            } catch (Exception e) {
                throw new IllegalStateException(e); // the library retries the entry
            }
        }
    }

    private final PeerDatabase database;
    private final HikariDataSource dataSource;
    private final ThreadLocalContextTransactionManager transactions;
    private final ThreadPoolExecutor workers;
    private final TransactionOutbox outbox;
    private final int flushBatchSize;
    /** While seeding, scheduled calls are stored but not run: the drain is the library's recovery of a backlog. */
    private volatile boolean holding = true;
    /** While seeding, the clock runs an hour behind, so that the stored rows are due as soon as the drain starts. */
    private volatile Clock clock = Clock.offset(Clock.systemUTC(), Duration.ofHours(-1));
    private volatile boolean running;
    private Thread flusher;

    GruelboxPeer(PeerDatabase database, PeerSink sink, int workers, int flushBatchSize) {
        this.database = database;
        this.flushBatchSize = flushBatchSize;
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(database.url);
        config.setUsername(database.user);
        config.setMaximumPoolSize(workers + 4);
        dataSource = new HikariDataSource(config);
        transactions = TransactionManager.fromDataSource(dataSource);
        this.workers = new ThreadPoolExecutor(workers, workers, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>());
        Submitter executor = ExecutorSubmitter.builder().executor(this.workers).build();
        Publisher publisher = new Publisher(sink);
        outbox = TransactionOutbox.builder()
                                  .transactionManager(transactions)
                                  .persistor(DefaultPersistor.builder()
                                                             .dialect(database.postgres ? Dialect.POSTGRESQL_9
                                                                                        : Dialect.H2)
                                                             .build())
                                  .instantiator(Instantiator.using(type -> publisher))
                                  .submitter(new Submitter() {
                                      @Override
                                      public void submit(TransactionOutboxEntry entry,
                                                         Consumer<TransactionOutboxEntry> localExecutor) {
                                          if (!holding) {
                                              executor.submit(entry, localExecutor);
                                          }
                                      }
                                  })
                                  .clockProvider(() -> clock)
                                  .flushBatchSize(flushBatchSize)
                                  .build();
    }

    @Override
    public void seed(int rows, int aggregates, int payloadBytes) {
        for (int first = 0; first < rows; first += 2000) {
            int from = first;
            transactions.inTransaction(() -> {
                for (int row = from; row < Math.min(rows, from + 2000); row++) {
                    PeerEvent event = PeerEvent.of(row, aggregates, payloadBytes);
                    outbox.schedule(Publisher.class).publish(event.accountId(), event.row(), event.json());
                }
            });
        }
    }

    @Override
    public String table() {
        return "TXNO_OUTBOX";
    }

    @Override
    public void start() {
        clock = Clock.systemUTC();
        holding = false;
        running = true;
        flusher = new Thread(() -> {
            while (running) {
                // hand over the next batch once the pool's queue runs low, as a scheduled flush would
                if (workers.getQueue().size() >= flushBatchSize) {
                    sleep(1);
                } else if (!outbox.flush()) {
                    sleep(100); // every stored row is handed over: nothing is due before attemptFrequency
                }
            }
        }, "gruelbox-flush");
        flusher.start();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public long incomplete() {
        return database.count("SELECT COUNT(*) FROM TXNO_OUTBOX WHERE processed = false");
    }

    @Override
    public String guarantee() {
        return "unordered, at least once";
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        if (flusher != null) {
            flusher.join();
        }
        workers.shutdown();
        workers.awaitTermination(1, TimeUnit.MINUTES);
        dataSource.close();
    }
}
