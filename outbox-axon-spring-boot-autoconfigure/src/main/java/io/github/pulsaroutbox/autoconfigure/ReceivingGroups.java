package io.github.pulsaroutbox.autoconfigure;

import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The receiving processing groups: those named like the processors bound to a receiving source
 * ({@code axon.eventhandling.processors.<processor>.source=<source>}; Axon's default group of a processor carries its
 * name) and the inbox processors. The endpoint, the meters, the health and the receive observations serve these.
 */
final class ReceivingGroups {

    private final Set<String> names;
    private final Map<String, String> sourceByProcessor;

    ReceivingGroups(Collection<String> names) {
        this(names, Map.of());
    }

    ReceivingGroups(Collection<String> names, Map<String, String> sourceByProcessor) {
        this.names = Set.copyOf(new LinkedHashSet<>(names));
        this.sourceByProcessor = Map.copyOf(sourceByProcessor);
    }

    /** The receiving groups of this application's configuration. */
    static ReceivingGroups of(Environment environment, Collection<String> sources, Collection<String> inbox) {
        Map<String, ProcessorSource> processors = Binder.get(environment).bind(
                "axon.eventhandling.processors", Bindable.mapOf(String.class, ProcessorSource.class))
                                                      .orElse(Map.of());
        Set<String> groups = new LinkedHashSet<>();
        Map<String, String> sourceByProcessor = new java.util.HashMap<>();
        processors.forEach((processor, settings) -> {
            if (settings != null && sources.contains(settings.source())) {
                groups.add(processor);
                sourceByProcessor.put(processor, settings.source());
            }
        });
        groups.addAll(inbox);
        return new ReceivingGroups(groups, sourceByProcessor);
    }

    /** The one property of Axon's processor settings read here. */
    record ProcessorSource(String source) {
    }

    /** The group names, sorted. */
    List<String> names() {
        return names.stream().sorted().toList();
    }

    /** The processors bound to {@code source} by {@code axon.eventhandling.processors.<processor>.source}. */
    List<String> processorsOf(String source) {
        return sourceByProcessor.entrySet().stream().filter(e -> e.getValue().equals(source)).map(Map.Entry::getKey)
                                .sorted().toList();
    }

    /** Whether {@code group} is a receiving group. */
    boolean contains(String group) {
        return names.contains(group);
    }
}
