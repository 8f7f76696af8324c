package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.deadletter.ProcessingGroupDeadLetters;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.EventProcessingConfiguration;
import org.springframework.beans.factory.ObjectProvider;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The parked events of the {@link ReceivingGroups receiving processing groups}. A group's parked events exist once Axon
 * built its processors and only when the group has a dead-letter queue ({@code
 * axon.eventhandling.processors.<processor>.dlq.enabled=true}, or {@code registerDeadLetterQueue}).
 */
final class ReceivingDeadLetters {

    private final ReceivingGroups groups;
    private final ObjectProvider<EventProcessingConfiguration> processing;
    private final ObjectProvider<TransactionManager> transactions;
    private final Map<String, ProcessingGroupDeadLetters> found = new ConcurrentHashMap<>();

    ReceivingDeadLetters(ReceivingGroups groups, ObjectProvider<EventProcessingConfiguration> processing,
                         ObjectProvider<TransactionManager> transactions) {
        this.groups = groups;
        this.processing = processing;
        this.transactions = transactions;
    }

    /** The receiving groups, sorted. */
    List<String> groups() {
        return groups.names();
    }

    /** Whether {@code group} is a receiving group. */
    boolean isGroup(String group) {
        return groups.contains(group);
    }

    /** The parked events of {@code group}: empty when it is no receiving group or has no dead-letter queue (yet). */
    Optional<ProcessingGroupDeadLetters> of(String group) {
        if (!groups.contains(group)) {
            return Optional.empty();
        }
        ProcessingGroupDeadLetters known = found.get(group);
        if (known != null) {
            return Optional.of(known);
        }
        EventProcessingConfiguration configuration = processing.getIfAvailable();
        if (configuration == null) {
            return Optional.empty();
        }
        try {
            return configuration.deadLetterQueue(group).flatMap(queue -> configuration
                    .sequencedDeadLetterProcessor(group).map(processor -> found.computeIfAbsent(
                            group, g -> new ProcessingGroupDeadLetters(
                                    "Processing group " + g, queue, processor,
                                    transactions.getIfAvailable(NoTransactionManager::instance)))));
        } catch (AxonConfigurationException notYetInitialized) {
            return Optional.empty(); // before Axon's configuration is initialized: nothing is parked yet
        }
    }
}
