package io.github.pulsaroutbox.tailing;

import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.pooled.MaxSegmentProvider;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Shares the tailing processor's segments fairly among the live instances: each instance holds a claim on one
 * presence token (processor {@code <name>.instances}, {@value #SLOTS} slots) in the same token store, extended every
 * heartbeat; the instances alive are the presence tokens claimed, and each instance may claim at most
 * {@code ceil(segments / instances)} of the processor's segments. Axon's pooled streaming processor releases segments
 * above that maximum and claims up to it, so a joining instance gets its share and a dead one's segments (and its
 * presence, when its claim expires) are taken over by the others.
 */
final class TailingBalancer implements MaxSegmentProvider {

    private static final Logger logger = LoggerFactory.getLogger(TailingBalancer.class);
    /** The most instances counted. */
    static final int SLOTS = 64;

    private final String processorName;
    private final String presenceName;
    private final TokenStore tokenStore;
    private final TransactionManager transactionManager;
    private final Duration heartbeat;
    private volatile int maxSegments = Short.MAX_VALUE;
    private volatile int slot = -1;
    private volatile int instances = 1;
    private ScheduledExecutorService scheduler;

    TailingBalancer(String processorName, TokenStore tokenStore, TransactionManager transactionManager,
                    Duration heartbeat) {
        this.processorName = processorName;
        this.presenceName = processorName + ".instances";
        this.tokenStore = tokenStore;
        this.transactionManager = transactionManager;
        this.heartbeat = heartbeat;
    }

    @Override
    public int getMaxSegments(String processingGroup) {
        return maxSegments;
    }

    /** How many instances were alive at the last heartbeat. */
    int instances() {
        return instances;
    }

    /** Claims a presence slot, computes the share and keeps both current every heartbeat until {@link #stop()}. */
    synchronized void start() {
        beat();
        scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "outbox-tailing-balancer-" + processorName);
            thread.setDaemon(true);
            return thread;
        });
        scheduler.scheduleWithFixedDelay(this::beat, heartbeat.toMillis(), heartbeat.toMillis(),
                                         TimeUnit.MILLISECONDS);
    }

    /** Stops the heartbeat and gives the presence slot up, so that the others take the segments over at once. */
    synchronized void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
        int held = slot;
        slot = -1;
        if (held >= 0) {
            try {
                transactionManager.executeInTransaction(() -> tokenStore.releaseClaim(presenceName, held));
            } catch (RuntimeException e) {
                logger.debug("Could not release presence slot {} of {}", held, presenceName, e);
            }
        }
    }

    private void beat() {
        try {
            initializeSlots();
            transactionManager.executeInTransaction(this::claimSlot);
            int[] total = new int[1];
            int[] available = new int[1];
            transactionManager.executeInTransaction(() -> {
                total[0] = tokenStore.fetchSegments(processorName).length;
                available[0] = tokenStore.fetchAvailableSegments(presenceName).size();
            });
            // available: the free and expired slots and this instance's own; the others are the live instances
            int alive = Math.max(1, SLOTS - available[0] + (slot >= 0 ? 1 : 0));
            int share = total[0] == 0 ? Short.MAX_VALUE : (total[0] + alive - 1) / alive;
            if (alive != instances || share != maxSegments) {
                logger.info("Outbox tailing processor '{}': {} instance(s) alive, this one claims up to {} of {} "
                                    + "segment(s)", processorName, alive, share, total[0]);
            }
            instances = alive;
            maxSegments = share;
        } catch (RuntimeException e) {
            logger.warn("Outbox tailing processor '{}': heartbeat failed ({}); keeping a share of {}", processorName,
                        e.toString(), maxSegments);
        }
    }

    /** Creates the presence slots once (in a transaction of its own: another instance may race to do the same). */
    private void initializeSlots() {
        if (slot >= 0) {
            return;
        }
        try {
            transactionManager.executeInTransaction(() -> {
                if (tokenStore.fetchSegments(presenceName).length == 0) {
                    tokenStore.initializeTokenSegments(presenceName, SLOTS);
                }
            });
        } catch (RuntimeException e) {
            logger.debug("Presence slots of {} initialized by another instance", presenceName, e);
        }
    }

    private void claimSlot() {
        int held = slot;
        if (held >= 0) {
            try {
                tokenStore.extendClaim(presenceName, held);
                return;
            } catch (UnableToClaimTokenException e) {
                logger.info("Outbox tailing processor '{}' lost its presence slot {}; claiming one again",
                            processorName, held);
                slot = -1;
            }
        }
        for (int candidate = 0; candidate < SLOTS; candidate++) {
            try {
                tokenStore.fetchToken(presenceName, candidate);
                slot = candidate;
                return;
            } catch (UnableToClaimTokenException e) {
                // held by a live instance
            }
        }
    }
}
