package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.deadletter.ProcessingGroupDeadLetters;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.EventProcessingConfiguration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The receiving processing groups and their parked events: the groups named like the processors bound to a receiving
 * source ({@code axon.eventhandling.processors.<processor>.source=<source>}, Axon's default group of a processor
 * carries its name) and the inbox processors. A group's parked events exist once Axon built its processors and only
 * when the group has a dead-letter queue ({@code axon.eventhandling.processors.<processor>.dlq.enabled=true}, or
 * {@code registerDeadLetterQueue}).
 */
final class ReceivingDeadLetters {

    private final Set<String> groups;
    private final ObjectProvider<EventProcessingConfiguration> processing;
    private final ObjectProvider<TransactionManager> transactions;
    private final Map<String, ProcessingGroupDeadLetters> found = new ConcurrentHashMap<>();

    ReceivingDeadLetters(Collection<String> groups, ObjectProvider<EventProcessingConfiguration> processing,
                         ObjectProvider<TransactionManager> transactions) {
        this.groups = Set.copyOf(new LinkedHashSet<>(groups));
        this.processing = processing;
        this.transactions = transactions;
    }

    /** The receiving groups of this application's configuration. */
    static Set<String> groupsOf(Environment environment, Collection<String> sources, Collection<String> inbox) {
        Map<String, ProcessorSource> processors = Binder.get(environment).bind(
                "axon.eventhandling.processors", Bindable.mapOf(String.class, ProcessorSource.class))
                                                      .orElse(Map.of());
        Set<String> groups = new LinkedHashSet<>();
        processors.forEach((processor, settings) -> {
            if (settings != null && sources.contains(settings.source())) {
                groups.add(processor);
            }
        });
        groups.addAll(inbox);
        return groups;
    }

    /** The one property of Axon's processor settings read here. */
    record ProcessorSource(String source) {
    }

    /** The receiving groups, sorted. */
    List<String> groups() {
        return groups.stream().sorted().toList();
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
        return configuration.deadLetterQueue(group).flatMap(queue -> configuration
                .sequencedDeadLetterProcessor(group).map(processor -> found.computeIfAbsent(
                        group, g -> new ProcessingGroupDeadLetters(
                                "Processing group " + g, queue, processor,
                                transactions.getIfAvailable(NoTransactionManager::instance)))));
    }
}
