package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.receiving.inbox.Inbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the inbox bounded: every {@code interval}, removes the records of events handled more than {@code retention}
 * ago, in batches of {@value #BATCH} (one short statement each) until none is left. A failure is logged and tried at
 * the next interval.
 */
public final class InboxRetention implements SmartLifecycle {

    static final int BATCH = 1000;
    private static final Logger logger = LoggerFactory.getLogger(InboxRetention.class);

    private final Inbox inbox;
    private final Duration retention;
    private final Duration interval;
    private final Clock clock;
    private ScheduledExecutorService scheduler;

    InboxRetention(Inbox inbox, Duration retention, Duration interval) {
        this(inbox, retention, interval, Clock.systemUTC());
    }

    InboxRetention(Inbox inbox, Duration retention, Duration interval, Clock clock) {
        if (retention.isNegative() || retention.isZero() || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("The inbox retention and its interval must be positive");
        }
        this.inbox = inbox;
        this.retention = retention;
        this.interval = interval;
        this.clock = clock;
    }

    /** Removes every record older than the retention; how many. */
    int purge() {
        int removed = 0;
        int batch;
        do {
            batch = inbox.purge(clock.instant().minus(retention), BATCH);
            removed += batch;
        } while (batch == BATCH);
        return removed;
    }

    @Override
    public synchronized void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "pulsar-outbox-inbox-retention");
            thread.setDaemon(true);
            return thread;
        });
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                purge();
            } catch (RuntimeException e) {
                logger.warn("Removing old inbox records failed; trying again in {}", interval, e);
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return scheduler != null;
    }
}
