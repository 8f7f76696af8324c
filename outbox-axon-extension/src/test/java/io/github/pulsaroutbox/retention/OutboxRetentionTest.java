package io.github.pulsaroutbox.retention;

import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.transaction.NoTransactionManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link OutboxRetention} on a simulated clock: batch by batch until nothing is due, and the pause after each batch
 * that keeps its share of time at the duty cycle. (Removal itself, on real databases: the integration test.)
 */
class OutboxRetentionTest {

    /** Each batch takes 40 ms on the simulated clock and removes the next count of {@link #batches}. */
    private final AtomicLong nanos = new AtomicLong();
    private final Deque<Integer> batches = new ArrayDeque<>();
    private final List<Long> pauses = new ArrayList<>();
    private final DelegatingMaintenance maintenance = new DelegatingMaintenance(null) {
        @Override
        public int purgeSent(Instant cutoff, int batchSize, boolean archive) {
            nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(40));
            return batches.isEmpty() ? 0 : batches.poll();
        }
    };

    private OutboxRetention.Builder retention() {
        return OutboxRetention.builder().maintenance(maintenance)
                              .transactionManager(NoTransactionManager.instance())
                              .timing(nanos::get, pause -> {
                                  pauses.add(pause);
                                  nanos.addAndGet(pause);
                              });
    }

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    @Nested
    class Batches {

        @Test
        void removesBatchByBatchUntilABatchRemovesNothing() {
            batches.addAll(List.of(1000, 1000, 400));

            assertThat(retention().build().runOnce()).isEqualTo(2400);
            assertThat(batches).isEmpty();
        }

        @Test
        void anInterruptedThreadStopsAfterTheBatchInProgress() {
            batches.addAll(List.of(1000, 1000, 400));
            Thread.currentThread().interrupt();

            assertThat(retention().dutyCycle(1).build().runOnce()).isEqualTo(1000);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        }
    }

    @Nested
    class DutyCycle {

        @Test
        void byDefaultPausesFourTimesAsLongAsEachBatchTook() {
            batches.addAll(List.of(1000, 1000, 400));

            retention().build().runOnce();

            // three batches that removed rows, 40 ms each: a pause of 160 ms after each; none after the empty one
            assertThat(pauses).containsExactly(TimeUnit.MILLISECONDS.toNanos(160), TimeUnit.MILLISECONDS.toNanos(160),
                                               TimeUnit.MILLISECONDS.toNanos(160));
            long batchTime = TimeUnit.MILLISECONDS.toNanos(4 * 40);
            assertThat((double) batchTime / nanos.get()).isCloseTo(4 * 40 / (4 * 40 + 3 * 160.0),
                                                                   org.assertj.core.data.Offset.offset(1e-9));
        }

        @Test
        void aDutyCycleOfOneRunsBatchesBackToBack() {
            batches.addAll(List.of(1000, 1000, 400));

            assertThat(retention().dutyCycle(1).build().runOnce()).isEqualTo(2400);
            assertThat(pauses).isEmpty();
        }

        @Test
        void aHalfDutyCyclePausesAsLongAsTheBatchTook() {
            batches.addAll(List.of(1000));

            retention().dutyCycle(0.5).build().runOnce();

            assertThat(pauses).containsExactly(TimeUnit.MILLISECONDS.toNanos(40));
        }

        @Test
        void anInterruptDuringAPauseEndsTheRunWithTheInterruptKept() {
            batches.addAll(List.of(1000, 1000, 400));
            OutboxRetention retention = OutboxRetention.builder().maintenance(maintenance)
                                                       .transactionManager(NoTransactionManager.instance())
                                                       .timing(nanos::get, pause -> {
                                                           throw new InterruptedException("shutdown");
                                                       })
                                                       .build();

            assertThat(retention.runOnce()).isEqualTo(1000);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
            assertThat(batches).containsExactly(1000, 400);
        }

        @Test
        void mustBeFromOneHundredthToOne() {
            assertThat(retention().dutyCycle(0.01).build()).isNotNull();
            for (double invalid : new double[] {0, 1e-6, 0.0099, -0.1, 1.01, Double.NaN}) {
                assertThatThrownBy(() -> OutboxRetention.builder().dutyCycle(invalid))
                        .isInstanceOf(AxonConfigurationException.class).hasMessageContaining("dutyCycle");
            }
        }
    }
}
